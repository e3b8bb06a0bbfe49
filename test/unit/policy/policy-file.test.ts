import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, decide, type Policy } from '../../../src/policy/policy.js';
import { loadPolicy, loadPolicyFile } from '../../../src/policy/policy-file.js';

function policyOf(text: string): Policy {
  const loaded = loadPolicy(text);
  if (!loaded.ok) throw new Error(`refused: ${loaded.problems.join('; ')}`);
  return loaded.policy;
}

function problemsOf(text: string): string[] {
  const loaded = loadPolicy(text);
  if (loaded.ok) throw new Error('the policy was accepted');
  return loaded.problems;
}

const LOOSEN = "would loosen the design card's rules; a policy file can only tighten them";

const EXAMPLE = `# Helm policy: additions to the design card's rules, never exemptions.
require_approval:
  - environment: staging
    actions: [deploy, rollback]
  - environment: dev
    actions: '*'
deny:
  - environment: production
    actions: [prune]
classify:
  - pattern: "shop-staging-*"
    environment: staging
  - pattern: "*-dev"
    environment: dev
approval_deadline_s: 1800
stability_window_s: 120
`;

describe('loadPolicy: tightening', () => {
  it('reads the example file', () => {
    expect(policyOf(EXAMPLE)).toEqual({
      requireApproval: [
        { environment: 'staging', actions: ['deploy', 'rollback'] },
        { environment: 'dev', actions: '*' },
      ],
      deny: [{ environment: 'production', actions: ['prune'] }],
      classify: [
        { pattern: 'shop-staging-*', environment: 'staging' },
        { pattern: '*-dev', environment: 'dev' },
      ],
      approvalDeadlineS: 1800,
      stabilityWindowS: 120,
    });
  });

  it('is the design card policy when empty or only comments', () => {
    expect(policyOf('')).toEqual(DEFAULT_POLICY);
    expect(policyOf('# nothing yet\n')).toEqual(DEFAULT_POLICY);
    expect(policyOf('require_approval: []\ndeny: []\n')).toEqual(DEFAULT_POLICY);
  });

  it('returns a frozen policy', () => {
    const policy = policyOf(EXAMPLE);
    expect(Object.isFrozen(policy)).toBe(true);
    expect(Object.isFrozen(policy.requireApproval)).toBe(true);
    expect(Object.isFrozen(policy.requireApproval[0])).toBe(true);
  });

  it('staging deploys need approval', () => {
    const policy = policyOf('require_approval:\n  - environment: staging\n    actions: [deploy]\n');
    expect(decide({ action: 'deploy', environment: 'staging', direction: null }, policy).decision).toBe(
      'needs_approval',
    );
    expect(decide({ action: 'deploy', environment: 'dev', direction: null }, policy).decision).toBe('auto');
    expect(decide({ action: 'restart', environment: 'staging', direction: null }, policy).decision).toBe(
      'auto',
    );
  });

  it('everything in an environment needs approval (the reads stay safe)', () => {
    const policy = policyOf("require_approval:\n  - environment: dev\n    actions: '*'\n");
    for (const action of ['deploy', 'restart', 'stop', 'remove', 'set_env', 'rollback', 'prune']) {
      expect(decide({ action, environment: 'dev', direction: null }, policy).decision).toBe('needs_approval');
    }
    expect(decide({ action: 'scale', environment: 'dev', direction: 'up' }, policy).decision).toBe(
      'needs_approval',
    );
    expect(decide({ action: 'logs', environment: 'dev', direction: null }, policy).decision).toBe('auto');
  });

  it('denies an action outright', () => {
    const policy = policyOf('deny:\n  - environment: "*"\n    actions: [prune, remove]\n');
    for (const environment of ['production', 'staging', 'dev']) {
      expect(decide({ action: 'prune', environment, direction: null }, policy).decision).toBe('deny');
      expect(decide({ action: 'remove', environment, direction: null }, policy).decision).toBe('deny');
      expect(decide({ action: 'stop', environment, direction: null }, policy).decision).toBe(
        environment === 'production' ? 'needs_approval' : 'auto',
      );
    }
  });

  it('accepts redundant rules that the card already has', () => {
    const policy = policyOf("require_approval:\n  - environment: production\n    actions: '*'\n");
    expect(decide({ action: 'stop', environment: 'production', direction: null }, policy).decision).toBe(
      'needs_approval',
    );
  });

  it('bounds the approval deadline', () => {
    expect(policyOf('approval_deadline_s: 60\n').approvalDeadlineS).toBe(60);
    expect(policyOf('approval_deadline_s: 86400\n').approvalDeadlineS).toBe(86_400);
    expect(problemsOf('approval_deadline_s: 59\n')).toEqual([
      'line 1: approval_deadline_s: must be an integer from 60 to 86400',
    ]);
    expect(problemsOf('approval_deadline_s: 90000\n')).toEqual([
      'line 1: approval_deadline_s: must be an integer from 60 to 86400',
    ]);
    expect(problemsOf('approval_deadline_s: 600.5\n')).toEqual([
      'line 1: approval_deadline_s: must be an integer from 60 to 86400',
    ]);
    expect(problemsOf('stability_window_s: 5\n')).toEqual([
      'line 1: stability_window_s: must be an integer from 10 to 3600',
    ]);
  });
});

describe('loadPolicy: loosening is refused', () => {
  it.each([
    ['an allow key', 'allow:\n  - environment: production\n    actions: [restart]\n', 1, 'key "allow"'],
    ['an auto key', 'auto:\n  production: [deploy]\n', 1, 'key "auto"'],
    ['a no_approval key', 'no_approval: [scale]\n', 1, 'key "no_approval"'],
    ['a kebab-case auto-approve key', 'auto-approve: true\n', 1, 'key "auto-approve"'],
    ['require_approval: false', 'require_approval: false\n', 1, 'require_approval: false'],
    ['require_approval: none', 'require_approval: none\n', 1, 'require_approval: "none"'],
    [
      'an environment mapped to auto',
      'require_approval:\n  production: auto\n',
      2,
      'require_approval.production: "auto"',
    ],
    [
      'a rule switched off',
      'require_approval:\n  - environment: production\n    actions: [restart]\n    required: false\n',
      4,
      'require_approval[0].required: false',
    ],
    [
      'an exemption inside a rule',
      'require_approval:\n  - environment: dev\n    actions: [scale]\n    except: [scale]\n',
      4,
      'key "except"',
    ],
    ['a top-level environment set to never', 'production: never\n', 1, 'production: "never"'],
    ['scale-down switched off', 'scale_down: off\n', 1, 'scale_down: "off"'],
    ['a skip list', 'skip_approval:\n  - deploy\n', 1, 'key "skip_approval"'],
    ['a bypass key', 'deny: []\nbypass: true\n', 2, 'key "bypass"'],
  ])('%s', (_name, text, line, what) => {
    const problems = problemsOf(text);
    expect(problems[0]).toBe(`line ${line}: ${what} ${LOOSEN} (add require_approval or deny rules)`);
  });

  it('names every loosening attempt, with its line', () => {
    const problems = problemsOf('deny: []\nallow: [restart]\nrequire_approval:\n  dev: auto\n');
    expect(problems.filter((p) => p.includes(LOOSEN)).map((p) => p.split(':')[0])).toEqual([
      'line 2',
      'line 4',
    ]);
  });

  it('refuses unknown keys at every level, naming them', () => {
    expect(problemsOf('approvals: 3\n')).toEqual([
      'line 1: unknown key "approvals" (a policy file takes require_approval, deny, classify, approval_deadline_s, stability_window_s)',
    ]);
    expect(problemsOf('deny:\n  - environment: dev\n    actions: [stop]\n    when: weekends\n')).toEqual([
      'line 4: deny[0]: unknown key "when"',
    ]);
    expect(problemsOf('classify:\n  - pattern: "web-*"\n    environment: dev\n    note: x\n')).toEqual([
      'line 4: classify[0]: unknown key "note"',
    ]);
  });

  it('refuses reads under require_approval (they have no plan) but lets them be denied', () => {
    expect(problemsOf('require_approval:\n  - environment: dev\n    actions: [deploy, logs]\n')).toEqual([
      'line 3: require_approval[0].actions: health_check, logs, status and stats are safe reads and are never gated (the contract has no plan for them): put them under deny to refuse them',
    ]);
    expect(policyOf('deny:\n  - environment: production\n    actions: [logs]\n').deny).toHaveLength(1);
  });

  it('explains bad rules field by field', () => {
    expect(
      problemsOf(
        'require_approval:\n  - environment: prod\n    actions: [deploy, frobnicate]\n  - actions: []\ndeny:\n  - environment: dev\n    actions: everything\n',
      ),
    ).toEqual([
      'line 2: require_approval[0].environment: must be one of production, staging, dev, *, got "prod"',
      'line 3: require_approval[0].actions: item 2 ("frobnicate") is not an action (deploy, restart, stop, scale, health_check, logs, rollback, remove, set_env, prune, status, stats)',
      'line 4: require_approval[1].environment is required',
      "line 4: require_approval[1].actions: must list at least one action, or be '*'",
      `line 7: deny[0].actions: must be '*' or a list of actions (deploy, restart, stop, scale, health_check, logs, rollback, remove, set_env, prune, status, stats), got "everything"`,
    ]);
    expect(problemsOf('classify:\n  - pattern: "/web"\n    environment: staging\n')).toEqual([
      "line 2: classify[0].pattern: must be a container-name glob: letters, digits, '_', '.', '-', with '*' and '?' (at most 256)",
    ]);
    expect(problemsOf('classify:\n  - pattern: web\n    environment: "*"\n')[0]).toMatch(
      /^line 3: classify\[0\]\.environment: must be one of production, staging, dev, got "\*"/,
    );
  });

  it('refuses YAML it cannot read unambiguously', () => {
    expect(problemsOf('deny: []\ndeny:\n  - environment: dev\n    actions: [stop]\n')).toEqual([
      'line 2: Map keys must be unique (YAML)',
    ]);
    expect(problemsOf('deny: []\n---\nallow: []\n')[0]).toMatch(
      /^line 2: Source contains multiple documents/,
    );
    expect(problemsOf('deny:\n  - environment: dev\n    actions: *\n')[0]).toMatch(
      /^line 3: .*\(YAML\) \(write '\*' in quotes: actions: '\*'\)$/,
    );
    expect(problemsOf('- deploy\n')).toEqual([
      'line 1: the policy file must be a YAML mapping (key: value) at the top level',
    ]);
    expect(problemsOf('deny: !!js/function x\n')[0]).toMatch(/^line 1: .*tag.*\(YAML\)$/);
  });

  it('refuses a huge file', () => {
    expect(problemsOf(`# ${'x'.repeat(300 * 1024)}\n`)).toEqual([
      'the policy file is larger than 262144 bytes',
    ]);
  });
});

describe('loadPolicyFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'helm-policy-'));

  it('reads a file', async () => {
    const path = join(dir, 'policy.yaml');
    writeFileSync(path, EXAMPLE);
    const loaded = await loadPolicyFile(path);
    expect(loaded.ok && loaded.policy.approvalDeadlineS).toBe(1800);
  });

  it('names the file in every problem', async () => {
    const path = join(dir, 'loose.yaml');
    writeFileSync(path, 'allow: [deploy]\n');
    expect(await loadPolicyFile(path)).toEqual({
      ok: false,
      problems: [`${path}: line 1: key "allow" ${LOOSEN} (add require_approval or deny rules)`],
    });
    expect(await loadPolicyFile(join(dir, 'missing.yaml'))).toEqual({
      ok: false,
      problems: [`${join(dir, 'missing.yaml')}: cannot read the policy file (ENOENT)`],
    });
  });
});

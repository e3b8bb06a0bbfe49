import { describe, expect, it } from 'vitest';
import { ACTIONS, type Action, ENVIRONMENTS } from '../../../src/contracts/index.js';
import {
  DEFAULT_POLICY,
  type Decision,
  type Direction,
  decide,
  type Policy,
  READ_ACTIONS,
} from '../../../src/policy/policy.js';

const DIRECTIONS: (Direction | null)[] = ['up', 'down', 'same', null];
const CODE: Record<string, Decision> = { A: 'auto', N: 'needs_approval', D: 'deny' };

// The design card's policy, written out by hand: for each action and environment, the verdict for
// the directions up, down, same, null (unknown). A = auto, N = needs approval.
const CARD: Record<Action, Record<'production' | 'staging' | 'dev', string>> = {
  deploy: { production: 'NNNN', staging: 'AAAA', dev: 'AAAA' },
  restart: { production: 'NNNN', staging: 'AAAA', dev: 'AAAA' },
  stop: { production: 'NNNN', staging: 'AAAA', dev: 'AAAA' },
  scale: { production: 'NNNN', staging: 'ANAN', dev: 'ANAN' },
  health_check: { production: 'AAAA', staging: 'AAAA', dev: 'AAAA' },
  logs: { production: 'AAAA', staging: 'AAAA', dev: 'AAAA' },
  rollback: { production: 'NNNN', staging: 'AAAA', dev: 'AAAA' },
  remove: { production: 'NNNN', staging: 'AAAA', dev: 'AAAA' },
  set_env: { production: 'NNNN', staging: 'AAAA', dev: 'AAAA' },
  prune: { production: 'NNNN', staging: 'AAAA', dev: 'AAAA' },
  status: { production: 'AAAA', staging: 'AAAA', dev: 'AAAA' },
  stats: { production: 'AAAA', staging: 'AAAA', dev: 'AAAA' },
};

const rows = ACTIONS.flatMap((action) =>
  ENVIRONMENTS.flatMap((environment) =>
    DIRECTIONS.map((direction, i) => ({
      action,
      environment,
      direction,
      expected: CODE[CARD[action][environment][i] as string] as Decision,
    })),
  ),
);

describe('decide with the design card policy', () => {
  it('covers every action × environment × direction', () => {
    expect(rows).toHaveLength(ACTIONS.length * 3 * 4);
  });

  it.each(rows)('$action in $environment, direction $direction → $expected', (row) => {
    const verdict = decide({ action: row.action, environment: row.environment, direction: row.direction });
    expect(verdict.decision).toBe(row.expected);
    expect(verdict.reason).not.toMatch(/\n/);
  });

  it('says why, in one plain sentence', () => {
    const say = (action: string, environment: string, direction: Direction | null = null) =>
      decide({ action, environment, direction }).reason;
    expect(say('restart', 'production')).toBe("restart in production needs Warden's approval (design card)");
    expect(say('rollback', 'production')).toBe(
      "rollback in production is a deploy to production and needs Warden's approval (design card)",
    );
    expect(say('scale', 'dev', 'down')).toBe(
      "scale down in dev needs Warden's approval (design card: scaling down always does)",
    );
    expect(say('scale', 'staging', null)).toBe(
      "scale in staging in an unknown direction needs Warden's approval (default is no: it counts as a scale-down)",
    );
    expect(say('scale', 'production', 'up')).toBe(
      "scale up in production needs Warden's approval (design card)",
    );
    expect(say('deploy', 'staging')).toBe(
      'deploy in staging needs no approval (design card: staging changes are automatic)',
    );
    expect(say('logs', 'production')).toBe('logs is a safe read: no approval needed (design card)');
  });
});

// A remove that deletes volume data without an archive needs Warden everywhere (design card rule 5);
// any other remove keeps the card's environment rule. Columns: production, staging, dev.
const REMOVE: [string, boolean | undefined, string][] = [
  ['volumes deleted without archive', true, 'NNN'],
  ['volumes kept or archived first', false, 'NAA'],
  ['not said (a caller that predates the flag)', undefined, 'NAA'],
];

describe('remove and data deleted without an archive', () => {
  it.each(
    REMOVE.flatMap(([what, deletes, verdicts]) =>
      ENVIRONMENTS.map((environment) => ({
        what,
        deletes,
        environment,
        expected: CODE[verdicts[['production', 'staging', 'dev'].indexOf(environment)] as string] as Decision,
      })),
    ),
  )('$what in $environment → $expected', ({ deletes, environment, expected }) => {
    const verdict = decide({
      action: 'remove',
      environment,
      direction: null,
      ...(deletes === undefined ? {} : { deletesUnarchivedData: deletes }),
    });
    expect(verdict.decision).toBe(expected);
  });

  it('says why, and means nothing on any other action', () => {
    expect(
      decide({ action: 'remove', environment: 'dev', direction: null, deletesUnarchivedData: true }).reason,
    ).toBe(
      "remove in dev deletes volume data without an archive and needs Warden's approval (design card rule 5: no destructive filesystem operation without the owner's explicit instruction)",
    );
    expect(
      decide({ action: 'restart', environment: 'dev', direction: null, deletesUnarchivedData: true })
        .decision,
    ).toBe('auto');
  });

  it("is still refused by an owner's deny rule", () => {
    const policy: Policy = { ...DEFAULT_POLICY, deny: [{ environment: 'dev', actions: ['remove'] }] };
    expect(
      decide({ action: 'remove', environment: 'dev', direction: null, deletesUnarchivedData: true }, policy)
        .decision,
    ).toBe('deny');
  });
});

describe('default is no', () => {
  it.each(['reboot', '', 'DEPLOY', 'Deploy', '__proto__', 'constructor', 'deploy ', 'exec'])(
    'denies the action %j, which is not in the contract',
    (action) => {
      for (const environment of [...ENVIRONMENTS, 'qa']) {
        const v = decide({ action, environment, direction: 'up' });
        expect(v.decision).toBe('deny');
        expect(v.reason).toMatch(/is not in the contract/);
      }
    },
  );

  it.each(['qa', '', 'Production', 'prod', 'dev ', 'STAGING', '__proto__', '*'])(
    'counts the unknown environment %j as production',
    (environment) => {
      for (const action of ACTIONS) {
        for (const direction of DIRECTIONS) {
          const v = decide({ action, environment, direction });
          const asProduction = decide({ action, environment: 'production', direction });
          expect(v.decision).toBe(asProduction.decision);
          if (v.decision === 'needs_approval') expect(v.reason).toMatch(/counted as production/);
        }
      }
    },
  );

  it('treats a direction it does not know as a scale-down', () => {
    for (const environment of ENVIRONMENTS) {
      const v = decide({ action: 'scale', environment, direction: 'sideways' as unknown as Direction });
      expect(v.decision).toBe('needs_approval');
    }
  });

  it('ignores direction for every action but scale', () => {
    expect(decide({ action: 'deploy', environment: 'dev', direction: 'down' }).decision).toBe('auto');
    expect(decide({ action: 'restart', environment: 'staging', direction: null }).decision).toBe('auto');
  });
});

describe('automatic rollback', () => {
  it('is auto in every environment: it is part of the approved deploy plan', () => {
    for (const environment of [...ENVIRONMENTS, 'qa']) {
      const v = decide({ action: 'rollback', environment, direction: null, automaticRollback: true });
      expect(v.decision).toBe('auto');
      expect(v.reason).toMatch(/approved deploy's plan/);
    }
  });

  it('means nothing on any other action, and a manual rollback in production needs approval', () => {
    for (const action of ['deploy', 'restart', 'stop', 'scale', 'remove', 'set_env', 'prune']) {
      expect(
        decide({ action, environment: 'production', direction: 'up', automaticRollback: true }).decision,
      ).toBe('needs_approval');
    }
    expect(
      decide({ action: 'rollback', environment: 'production', direction: null, automaticRollback: false })
        .decision,
    ).toBe('needs_approval');
  });

  it("is not stopped by an owner's deny rule for rollback (the card: roll back at once on failure)", () => {
    const policy: Policy = { ...DEFAULT_POLICY, deny: [{ environment: '*', actions: ['rollback'] }] };
    expect(decide({ action: 'rollback', environment: 'production', direction: null }, policy).decision).toBe(
      'deny',
    );
    expect(
      decide(
        { action: 'rollback', environment: 'production', direction: null, automaticRollback: true },
        policy,
      ).decision,
    ).toBe('auto');
  });
});

describe('owner rules in decide', () => {
  const policy: Policy = {
    ...DEFAULT_POLICY,
    requireApproval: [
      { environment: 'staging', actions: ['deploy'] },
      { environment: 'dev', actions: '*' },
    ],
    deny: [
      { environment: 'production', actions: ['prune'] },
      { environment: '*', actions: ['logs'] },
    ],
  };

  it('applies deny first, then require_approval, then the card', () => {
    expect(decide({ action: 'prune', environment: 'production', direction: null }, policy)).toEqual({
      decision: 'deny',
      reason: "prune in production is refused by the owner's policy (deny rule 1)",
    });
    expect(decide({ action: 'deploy', environment: 'staging', direction: null }, policy)).toEqual({
      decision: 'needs_approval',
      reason: "deploy in staging needs Warden's approval (owner's policy, require_approval rule 1)",
    });
    expect(decide({ action: 'restart', environment: 'staging', direction: null }, policy).decision).toBe(
      'auto',
    );
    expect(decide({ action: 'restart', environment: 'dev', direction: null }, policy).decision).toBe(
      'needs_approval',
    );
    expect(decide({ action: 'restart', environment: 'production', direction: null }, policy).decision).toBe(
      'needs_approval',
    );
  });

  it("'*' covers every change but not the reads; a read can be denied by name", () => {
    expect(decide({ action: 'health_check', environment: 'dev', direction: null }, policy).decision).toBe(
      'auto',
    );
    expect(decide({ action: 'logs', environment: 'dev', direction: null }, policy).decision).toBe('deny');
    const denyAll: Policy = { ...DEFAULT_POLICY, deny: [{ environment: '*', actions: '*' }] };
    for (const action of ACTIONS) {
      const expected = (READ_ACTIONS as readonly string[]).includes(action) ? 'auto' : 'deny';
      expect(decide({ action, environment: 'dev', direction: 'up' }, denyAll).decision).toBe(expected);
    }
  });

  it('applies production rules to an unknown environment', () => {
    expect(decide({ action: 'prune', environment: 'qa', direction: null }, policy).decision).toBe('deny');
  });
});

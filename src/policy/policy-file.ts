// Loads the owner's policy file (HELM_POLICY_FILE): YAML, checked for loosening attempts, then against
// a strict schema. Any problem refuses the whole file (Helm does not start on a policy it cannot fully
// honour), with one line per problem naming the line and key.
import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { z } from 'zod';
import { cappedProblems, loadOwnerFile, nodeAt } from '../config/owner-file.js';
import { quoteForMessage } from '../contracts/message-text.js';
import { formatPath, plainWordsErrorMap } from '../contracts/validation-errors.js';
import type { ClassificationRule } from './environment-of.js';
import { isLooseningKey, isLooseningValue, LOOSENING_SUFFIX } from './loosening-check.js';
import { DEFAULT_APPROVAL_DEADLINE_S, type Policy, type PolicyRule } from './policy.js';
import { POLICY_FILE_KEYS, type PolicyFile, PolicyFileSchema } from './policy-file-schema.js';

export type LoadedPolicy = { ok: true; policy: Policy } | { ok: false; problems: string[] };

/** A policy file is a few rules; anything larger is a mistake. */
export const MAX_POLICY_FILE_BYTES = 256 * 1024;

type Path = (string | number)[];

interface Located {
  line: number;
  path: Path;
  text: string;
}

/** Parse and validate the text of a policy file. An empty file (or only comments) is the card's policy. */
export function loadPolicy(text: string): LoadedPolicy {
  if (Buffer.byteLength(text, 'utf8') > MAX_POLICY_FILE_BYTES) {
    return { ok: false, problems: [`the policy file is larger than ${MAX_POLICY_FILE_BYTES} bytes`] };
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, schema: 'core', prettyErrors: false });
  const lineOf = (offset: number | undefined) =>
    offset === undefined ? 1 : lineCounter.linePos(offset).line;

  const yamlProblems = [...doc.errors, ...doc.warnings].map((e) => {
    // An unquoted * is a YAML alias: the one mistake every owner makes writing "every action".
    const hint = /alias/i.test(e.message) ? ` (write '*' in quotes: actions: '*')` : '';
    return `line ${lineOf(e.pos[0])}: ${e.message.split('\n')[0]} (YAML)${hint}`;
  });
  if (yamlProblems.length > 0) return refuse(yamlProblems);

  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    return { ok: true, policy: toPolicy({}) };
  }
  if (!isMap(doc.contents)) {
    return refuse([`line 1: the policy file must be a YAML mapping (key: value) at the top level`]);
  }

  const loosening = findLoosening(doc.contents, [], lineOf);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    return refuse([
      ...loosening.map(describe),
      `the policy file cannot be read as data: ${(err as Error).message}`,
    ]);
  }

  const parsed = PolicyFileSchema.safeParse(data, { error: plainWordsErrorMap });
  const flagged = new Set(loosening.map((l) => formatPath(l.path)));
  const schemaProblems = parsed.success
    ? []
    : parsed.error.issues.flatMap((issue) => schemaProblem(issue, doc.contents as Node, lineOf, flagged));
  const all = [...loosening, ...schemaProblems].sort((a, b) => a.line - b.line);
  if (all.length > 0) return refuse(dedupe(all.map(describe)));
  return { ok: true, policy: toPolicy(parsed.data as PolicyFile) };
}

/** Read and load HELM_POLICY_FILE; every problem line starts with the file's path. */
export async function loadPolicyFile(path: string): Promise<LoadedPolicy> {
  return loadOwnerFile(path, 'policy file', loadPolicy);
}

function refuse(problems: string[]): LoadedPolicy {
  return { ok: false, problems: cappedProblems(problems) };
}

function describe(p: Located): string {
  return `line ${p.line}: ${p.text}`;
}

function dedupe(lines: string[]): string[] {
  return [...new Set(lines)];
}

/** Every key or value that reads as an exemption, anywhere in the document. */
function findLoosening(node: unknown, path: Path, lineOf: (o: number | undefined) => number): Located[] {
  const found: Located[] = [];
  if (isMap(node)) {
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const keyNode = pair.key;
      const key = isScalar(keyNode) ? String(keyNode.value) : '';
      const keyLine = lineOf(isScalar(keyNode) ? keyNode.range?.[0] : undefined);
      const childPath = [...path, key];
      if (isLooseningKey(key)) {
        found.push({
          line: keyLine,
          path: childPath,
          text: `key ${quoteForMessage(key)} ${LOOSENING_SUFFIX}`,
        });
        continue;
      }
      // A classification pattern is a container name, which may well be "auto" or "no".
      if (key === 'pattern') continue;
      const value = pair.value;
      if (isScalar(value) && isLooseningValue(value.value)) {
        const shown = typeof value.value === 'string' ? quoteForMessage(value.value) : String(value.value);
        found.push({
          line: lineOf(value.range?.[0]),
          path: childPath,
          text: `${formatPath(childPath)}: ${shown} ${LOOSENING_SUFFIX}`,
        });
      } else {
        found.push(...findLoosening(value, childPath, lineOf));
      }
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => {
      const itemPath = [...path, i];
      if (isScalar(item) && isLooseningValue(item.value)) {
        found.push({
          line: lineOf(item.range?.[0]),
          path: itemPath,
          text: `${formatPath(itemPath)}: ${quoteForMessage(String(item.value))} ${LOOSENING_SUFFIX}`,
        });
      } else {
        found.push(...findLoosening(item, itemPath, lineOf));
      }
    });
  }
  return found;
}

function keyLine(root: Node, path: readonly PropertyKey[], key: string, lineOf: (o?: number) => number) {
  const parent = nodeAt(root, path);
  if (isMap(parent)) {
    const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === key);
    if (pair && isScalar(pair.key)) return lineOf(pair.key.range?.[0]);
  }
  return lineOf(parent.range?.[0]);
}

function schemaProblem(
  issue: z.core.$ZodIssue,
  root: Node,
  lineOf: (o?: number) => number,
  flagged: Set<string>,
): Located[] {
  const path = issue.path.filter((k): k is string | number => typeof k !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    const allowed = path.length === 0 ? ` (a policy file takes ${POLICY_FILE_KEYS.join(', ')})` : '';
    return issue.keys
      .filter((key) => !flagged.has(formatPath([...path, key])))
      .map((key) => ({
        line: keyLine(root, path, key, lineOf),
        path: [...path, key],
        text: `${path.length > 0 ? `${formatPath(path)}: ` : ''}unknown key ${quoteForMessage(key)}${allowed}`,
      }));
  }
  if (flagged.has(formatPath(path))) return [];
  const line = lineOf(nodeAt(root, path).range?.[0]);
  const where = formatPath(path);
  const missing = issue.message === 'is required';
  const text = where === '' ? issue.message : missing ? `${where} is required` : `${where}: ${issue.message}`;
  return [{ line, path, text }];
}

function freezeRule(rule: { environment: PolicyRule['environment']; actions: PolicyRule['actions'] }) {
  return Object.freeze({
    environment: rule.environment,
    actions: rule.actions === '*' ? '*' : Object.freeze([...rule.actions]),
  }) as PolicyRule;
}

function toPolicy(file: PolicyFile): Policy {
  const classify: ClassificationRule[] = (file.classify ?? []).map((r) =>
    Object.freeze({ pattern: r.pattern, environment: r.environment }),
  );
  return Object.freeze({
    requireApproval: Object.freeze((file.require_approval ?? []).map(freezeRule)),
    deny: Object.freeze((file.deny ?? []).map(freezeRule)),
    classify: Object.freeze(classify),
    approvalDeadlineS: file.approval_deadline_s ?? DEFAULT_APPROVAL_DEADLINE_S,
    stabilityWindowS: file.stability_window_s ?? null,
  });
}

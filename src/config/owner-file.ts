import { readFile } from 'node:fs/promises';
import { isMap, isScalar, isSeq, type Node } from 'yaml';

/**
 * What the owner's own files (the policy file, the services file) share: read from disk, every
 * problem named with the file's path, and at most MAX_PROBLEMS of them listed.
 */

const MAX_PROBLEMS = 20;

type Refused = { ok: false; problems: string[] };

/** Reads the file at `path` and parses it; every problem line starts with the path. */
export async function loadOwnerFile<T extends { ok: true }>(
  path: string,
  noun: string,
  parse: (text: string) => T | Refused,
): Promise<T | Refused> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    return { ok: false, problems: [`${path}: cannot read the ${noun} (${code})`] };
  }
  const loaded = parse(text);
  return loaded.ok ? loaded : { ok: false, problems: loaded.problems.map((p) => `${path}: ${p}`) };
}

/** The first MAX_PROBLEMS problems, and how many more there are. */
export function cappedProblems(problems: string[]): string[] {
  if (problems.length <= MAX_PROBLEMS) return problems;
  return [...problems.slice(0, MAX_PROBLEMS), `and ${problems.length - MAX_PROBLEMS} more problems`];
}

/** The node at `path`, or the nearest ancestor that exists (a missing field is reported at its parent). */
export function nodeAt(root: Node, path: readonly PropertyKey[]): Node {
  let node: Node = root;
  for (const key of path) {
    let next: unknown;
    if (isMap(node)) next = node.items.find((p) => isScalar(p.key) && p.key.value === key)?.value;
    else if (isSeq(node) && typeof key === 'number') next = node.items[key];
    if (!next || typeof next !== 'object') break;
    node = next as Node;
  }
  return node;
}

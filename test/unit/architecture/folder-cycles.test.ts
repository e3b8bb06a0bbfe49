// The structure check that biome cannot make: no two folders of src/ (nor src/ and the top-level
// workers/) import each other, directly or round a loop. Biome checks the rest (biome.json): the layer
// direction per folder (noRestrictedImports) and cycles between files (noImportCycles). See README,
// Architecture.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
const SRC = join(ROOT, 'src');
const WORKERS = join(ROOT, 'workers');

/**
 * A folder directly under src/ is one unit; the files directly in src/ are one unit together, `src/`
 * (the composition root: helm.ts, main.ts), which nothing may import back; the top-level workers/ (one
 * starter per queue, wired by src/helm.ts) is one unit.
 */
function unitOf(file: string): string {
  const [top, first, ...rest] = relative(ROOT, file).split('/');
  if (top === 'workers') return 'workers/';
  return rest.length > 0 ? `${first}/` : 'src/';
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

// Static imports and re-exports (`from '…'`), side-effect imports and dynamic `import('…')`.
const RELATIVE_IMPORT = /(?:from\s+|import\s*\(\s*|import\s+)['"](\.{1,2}\/[^'"]+)['"]/g;

/** unit → the units it imports, with one importing file as the example for a failure message. */
function unitGraph(files: string[]): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  for (const file of files) {
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(RELATIVE_IMPORT)) {
      const from = unitOf(file);
      const to = unitOf(resolve(dirname(file), spec!));
      if (from === to) continue;
      const edges = graph.get(from) ?? new Map<string, string>();
      if (!edges.has(to)) edges.set(to, `${relative(ROOT, file)} → ${spec}`);
      graph.set(from, edges);
    }
  }
  return graph;
}

/** Every loop as the path that closes it (depth-first search; a back edge closes a loop). */
function loopsOf(graph: Map<string, Map<string, string>>): string[] {
  const loops: string[] = [];
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (unit: string): void => {
    path.push(unit);
    for (const [next, example] of graph.get(unit) ?? []) {
      const at = path.indexOf(next);
      if (at >= 0) loops.push(`${[...path.slice(at), next].join(' → ')} (e.g. ${example})`);
      else if (!done.has(next)) visit(next);
    }
    path.pop();
    done.add(unit);
  };
  for (const unit of [...graph.keys()].sort()) if (!done.has(unit)) visit(unit);
  return loops;
}

describe('the folders of src/', () => {
  it('import each other in one direction only: no folder cycle', () => {
    expect(loopsOf(unitGraph([...sourceFiles(SRC), ...sourceFiles(WORKERS)]))).toEqual([]);
  });

  it('each fall under a layer rule in biome.json', () => {
    const biome = readFileSync(join(ROOT, 'biome.json'), 'utf8');
    const folders = readdirSync(SRC, { withFileTypes: true }).filter((e) => e.isDirectory());
    const roots = ['cli', 'wiring']; // composition roots import every layer; nothing imports them.
    const unruled = folders
      .map((e) => e.name)
      .filter((n) => !roots.includes(n) && !biome.includes(`"src/${n}/**"`));
    expect(unruled).toEqual([]);
    expect(biome).toContain('"workers/**"');
  });

  it('the check sees a loop when there is one', () => {
    const a = join(SRC, 'a/x.ts');
    const b = join(SRC, 'b/y.ts');
    const graph = new Map([
      [unitOf(a), new Map([['b/', 'a/x.ts → ../b/y.js']])],
      [unitOf(b), new Map([['a/', 'b/y.ts → ../a/x.js']])],
    ]);
    expect(loopsOf(graph)).toEqual(['a/ → b/ → a/ (e.g. b/y.ts → ../a/x.js)']);
  });
});

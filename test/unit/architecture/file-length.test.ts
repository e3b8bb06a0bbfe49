// The style rule "no file over ~400 lines without a comment saying why" (README, Architecture; STYLE.md),
// checked here because biome has no rule for file length. A file of src/ or workers/ past MAX_LINES must
// say why in its first HEADER_LINES lines, on a line containing `long-file:` followed by the reason.
// (Function length is biome's: complexity/noExcessiveLinesPerFunction in biome.json.)
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
const MAX_LINES = 400;
const HEADER_LINES = 40;
/** `long-file:` and at least a few words of reason after it. */
const MARKER = /long-file:\s*\S.{10,}/;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Why a file breaks the rule, or null when it keeps it. */
function lengthProblem(text: string): string | null {
  const lines = text.split('\n');
  const count = text.endsWith('\n') ? lines.length - 1 : lines.length;
  if (count <= MAX_LINES) return null;
  if (lines.slice(0, HEADER_LINES).some((l) => MARKER.test(l))) return null;
  return `${count} lines (over ${MAX_LINES}) and no "long-file: <why>" line in its first ${HEADER_LINES} lines`;
}

describe('file length', () => {
  it('passes a short file, fails a long one without a reason, passes a long one that gives it', () => {
    const body = 'const x = 1;\n'.repeat(MAX_LINES + 1);
    expect(lengthProblem('const x = 1;\n'.repeat(MAX_LINES))).toBeNull();
    expect(lengthProblem(body)).toMatch(/401 lines/);
    expect(lengthProblem(`// long-file:\n${body}`)).toMatch(/402 lines/);
    expect(lengthProblem(`/**\n * long-file: one state machine, read in one place\n */\n${body}`)).toBeNull();
    expect(
      lengthProblem(`${'\n'.repeat(HEADER_LINES)}// long-file: one state machine, read together\n${body}`),
    ).not.toBeNull();
  });

  it('no file in src/ or workers/ is over 400 lines without a comment saying why', () => {
    const files = [...sourceFiles(join(ROOT, 'src')), ...sourceFiles(join(ROOT, 'workers'))];
    expect(files.length).toBeGreaterThan(50);
    const problems = files
      .map((f) => ({ file: relative(ROOT, f), problem: lengthProblem(readFileSync(f, 'utf8')) }))
      .filter((p) => p.problem !== null)
      .map((p) => `${p.file}: ${p.problem}`);
    expect(problems).toEqual([]);
  });
});

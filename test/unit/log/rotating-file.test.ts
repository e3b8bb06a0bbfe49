import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { makeLoggerWithFile } from '../../../src/log/logger.js';
import { Redactor } from '../../../src/log/redactor.js';
import { createRotatingFileStream } from '../../../src/log/rotating-file.js';

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'helm-log-'));
}

const line = (i: number) => `${JSON.stringify({ msg: `line ${i}`, pad: 'x'.repeat(80) })}\n`;

async function rotated(dir: string): Promise<string[]> {
  return (await readdir(dir))
    .filter((f) => /^helm\.log\.[0-9]+/.test(f))
    .sort((a, b) => Number(a.split('.')[2]) - Number(b.split('.')[2]));
}

/** Every line, oldest first, across the gzipped rotated files and the live file. */
async function allLines(dir: string): Promise<string[]> {
  const texts: string[] = [];
  for (const name of await rotated(dir))
    texts.push(gunzipSync(await readFile(join(dir, name))).toString('utf8'));
  texts.push(await readFile(join(dir, 'helm.log'), 'utf8'));
  return texts.join('').split('\n').filter(Boolean);
}

describe('the rotating log file', () => {
  it('rotates by size into numbered gzip files and, with no retention set, deletes none', async () => {
    const dir = await tempDir();
    const stream = createRotatingFileStream({ path: join(dir, 'helm.log'), rotateBytes: 1024 });
    for (let i = 0; i < 300; i += 1) stream.write(line(i));
    await stream.close();
    const files = await rotated(dir);
    expect(files.length).toBeGreaterThanOrEqual(30);
    expect(files).toEqual(files.map((_, i) => `helm.log.${i + 1}.gz`));
    expect(await allLines(dir)).toEqual(Array.from({ length: 300 }, (_, i) => line(i).trimEnd()));
    // No file passes the limit.
    for (const name of files)
      expect(gunzipSync(await readFile(join(dir, name))).length).toBeLessThanOrEqual(1024);
  });

  it('deletes rotated files beyond the retention only when the owner set one, keeping the newest', async () => {
    const dir = await tempDir();
    const stream = createRotatingFileStream({
      path: join(dir, 'helm.log'),
      rotateBytes: 1024,
      retentionFiles: 3,
    });
    for (let i = 0; i < 300; i += 1) stream.write(line(i));
    await stream.close();
    const files = await rotated(dir);
    expect(files).toHaveLength(3);
    const newest = Number(files[2]!.split('.')[2]);
    expect(files).toEqual([newest - 2, newest - 1, newest].map((n) => `helm.log.${n}.gz`));
    expect((await allLines(dir)).at(-1)).toBe(line(299).trimEnd());
  });

  it('continues the numbering after a restart and compresses an uncompressed leftover', async () => {
    const dir = await tempDir();
    let stream = createRotatingFileStream({ path: join(dir, 'helm.log'), rotateBytes: 1024 });
    for (let i = 0; i < 50; i += 1) stream.write(line(i));
    await stream.close();
    const before = await rotated(dir);
    const n = before.length + 1;
    await writeFile(join(dir, `helm.log.${n}`), line(-1));
    stream = createRotatingFileStream({ path: join(dir, 'helm.log'), rotateBytes: 1024 });
    for (let i = 50; i < 100; i += 1) stream.write(line(i));
    await stream.close();
    const after = await rotated(dir);
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after).toEqual(after.map((_, i) => `helm.log.${i + 1}.gz`));
    expect(gunzipSync(await readFile(join(dir, `helm.log.${n}.gz`))).toString('utf8')).toBe(line(-1));
  });

  it('refuses a retention that is not a count', () => {
    expect(() => createRotatingFileStream({ path: '/nonexistent/helm.log', retentionFiles: -1 })).toThrow(
      /retentionFiles/,
    );
  });

  it('makeLogger writes redacted JSON lines to stdout and to the rotating file', async () => {
    const dir = await tempDir();
    const sink: string[] = [];
    const redactor = new Redactor();
    const { logger, file } = makeLoggerWithFile({
      level: 'info',
      redactor,
      destination: { write: (s: string) => sink.push(s) },
      file: { path: join(dir, 'helm.log'), rotateBytes: 2048 },
    });
    for (let i = 0; i < 40; i += 1) logger.info({ i, password: 'hunter2' }, 'hello');
    await file!.close();
    const lines = await allLines(dir);
    expect(lines).toHaveLength(40);
    expect(sink).toHaveLength(40);
    expect(lines.map((l) => JSON.parse(l).i)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(lines.join('\n')).not.toContain('hunter2');
    expect((await rotated(dir)).length).toBeGreaterThan(0);
  });
});

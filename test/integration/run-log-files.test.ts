// One process writes one file: a second Helm on the same host and memory folder writes its own
// chained file beside the first, and `helm log` merges every file by time and verifies each chain.
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { removeTestContainers, startWebService } from '../helpers/docker.js';
import { uniqueName } from '../helpers/containers.js';
import { type BusClient, busClient, cardRequest, startTestHelm, type TestHelm } from '../helpers/helm.js';
import { readRunLogEntries } from '../helpers/run-log.js';

const run = promisify(execFile);
const helms: TestHelm[] = [];
let bus: BusClient | undefined;
afterAll(async () => {
  await bus?.close();
  for (const h of helms) await h.close();
  await removeTestContainers();
});

describe('several Helm processes on one host', () => {
  it('write one chained file each, and helm log merges and verifies them', async () => {
    const first = await startTestHelm();
    helms.push(first);
    const second = await startTestHelm({}, { prefix: first.prefix, memoryDir: first.memoryDir });
    helms.push(second);
    const secondFile = `run_log.${hostname().replace(/[^A-Za-z0-9_.-]/g, '-')}.2.md`;
    expect(second.helm.runLog.path.endsWith(secondFile)).toBe(true);
    expect((await readdir(first.memoryDir)).filter((f) => /^run_log.*\.md$/.test(f)).sort()).toEqual(
      ['run_log.md', secondFile].sort(),
    );

    bus = await busClient(first.prefix);
    const service = uniqueName('two-helms');
    await startWebService({ labels: { 'ghost.service': service } });
    const results = await Promise.all(
      Array.from({ length: 12 }, () => bus!.request(cardRequest({ target: service, environment: 'dev' }))),
    );
    expect(results.every((r) => r.status === 'executed')).toBe(true);
    const inFirst = (await readRunLogEntries(first.memoryDir)).filter((e) => e.event === 'executed').length;
    const inSecond = (await readRunLogEntries(first.memoryDir, secondFile)).filter(
      (e) => e.event === 'executed',
    ).length;
    expect(inFirst + inSecond).toBe(12);

    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'log', '--json'], {
      env: { ...process.env, ...first.env },
    });
    // --json: one document, its entries merged by time.
    const merged = (JSON.parse(stdout) as { entries: { at: string; file: string; event: string }[] }).entries;
    expect(new Set(merged.map((e) => e.file))).toEqual(new Set(['run_log.md', secondFile]));
    expect(merged.filter((e) => e.event === 'executed')).toHaveLength(12);
    expect(merged.map((e) => e.at)).toEqual([...merged.map((e) => e.at)].sort());

    const verified = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'log', '--verify'], {
      env: { ...process.env, ...first.env },
    });
    expect(verified.stdout).toMatch(/^run log verified: \d+ entries/);
  });
});

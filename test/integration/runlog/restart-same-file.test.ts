// Issue 8 item 14: a Helm process restarted after kill -9 recognises its own dead predecessor and
// continues the same chain in the same file (run_log.md); only a second LIVE process gets a file of
// its own. Helm runs as real child processes (crash-rig) on a redis-server of this file's own, each
// as pid 1 of its own pid namespace, the way a container runs it: the restarted process has its dead
// predecessor's pid (what sent the owner's Helm to run_log.<host>.2.md, .3.md).
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/containers.js';
import { type CrashRig, readAllRunLogs, startCrashRig } from '../../helpers/crash-rig.js';
import { makeTestWarden } from '../../helpers/warden.js';

const run = promisify(execFile);
const warden = makeTestWarden();
let rig: CrashRig | undefined;
afterAll(async () => {
  await rig?.close();
});

const runLogFiles = async (dir: string) =>
  (await readdir(dir)).filter((f) => /^run_log.*\.md$/.test(f)).sort();

/** A read whose target does not exist: answered without Docker changes, and written to the run log. */
async function request(r: CrashRig, reason: string): Promise<string> {
  const job = await r.bus.send({
    action: 'health_check',
    target: 'no-such-service',
    environment: 'dev',
    reason,
  });
  await waitFor(async () => (await job.getState()) === 'completed', `job ${job.id} completed`, 30_000);
  return String(job.id);
}

async function verifyLog(r: CrashRig) {
  return run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'log', '--verify'], {
    env: {
      PATH: process.env.PATH ?? '',
      HELM_MEMORY_DIR: r.memoryDir,
      REDIS_URL: r.redis.url,
      HELM_QUEUE_PREFIX: r.prefix,
      HELM_WARDEN_PUBLIC_KEY: warden.publicPem,
    },
  });
}

describe('a Helm restarted after kill -9', () => {
  it('continues its dead predecessor’s chain in run_log.md; only a live second process gets its own file', async () => {
    rig = await startCrashRig({ wardenPublicPem: warden.publicPem, pidNamespace: true });
    await rig.startHelm();
    const before = await request(rig, 'before the crash');
    await rig.kill9Helm();
    await rig.startHelm();
    const after = await request(rig, 'after the restart');
    await rig.kill9Helm();
    await rig.startHelm();
    const third = await request(rig, 'after the second restart');

    expect(await runLogFiles(rig.memoryDir)).toEqual(['run_log.md']);
    const inMain = (await readAllRunLogs(rig.memoryDir)).filter((e) =>
      [before, after, third].includes(String(e.job_id)),
    );
    expect(new Set(inMain.map((e) => String(e.job_id)))).toEqual(new Set([before, after, third]));
    const verified = await verifyLog(rig);
    expect(verified.stdout).toMatch(/^run log verified: \d+ entries/);

    // A second process while the first still runs: its own file, and both verify.
    await rig.startHelm();
    const files = await runLogFiles(rig.memoryDir);
    expect(files).toHaveLength(2);
    expect(files).toContain('run_log.md');
    const fourth = await request(rig, 'with two live processes');
    expect((await readAllRunLogs(rig.memoryDir)).some((e) => String(e.job_id) === fourth)).toBe(true);
    expect((await verifyLog(rig)).stdout).toMatch(/^run log verified/);
  });
});

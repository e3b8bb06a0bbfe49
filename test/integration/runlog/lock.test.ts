import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openRunLog, type RunLog } from '../../../src/runlog/appender.js';
import { RunLogLockedError } from '../../../src/runlog/errors.js';
import { KEY, steppingClock, tempDir } from './fixtures.js';

const logs: RunLog[] = [];
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const log of logs.splice(0)) await log.close();
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

async function openIn(dir: string, fileName?: string): Promise<RunLog> {
  const log = await openRunLog({ dir, key: KEY, clock: steppingClock(), ...(fileName ? { fileName } : {}) });
  logs.push(log);
  return log;
}

function lockOf(dir: string, fileName = 'run_log.md'): string {
  return join(dir, `${fileName}.lock`);
}

async function writeLock(dir: string, holder: object): Promise<void> {
  await writeFile(lockOf(dir), JSON.stringify({ nonce: 'n', since: '2026-11-29T00:00:00.000Z', ...holder }));
}

/** The pid of a process that has exited and been reaped. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

describe('the run-log lock', () => {
  it('holds pid and host while the log is open and is removed on close', async () => {
    const dir = await tempDir();
    const log = await openRunLog({ dir, key: KEY, clock: steppingClock() });
    expect(JSON.parse(await readFile(lockOf(dir), 'utf8'))).toMatchObject({
      pid: process.pid,
      host: hostname(),
    });
    await log.close();
    await expect(readFile(lockOf(dir), 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses a second writer of the same file', async () => {
    const dir = await tempDir();
    await openIn(dir);
    await expect(openIn(dir)).rejects.toThrow(RunLogLockedError);
    await expect(openIn(dir)).rejects.toThrow(/this process already has it open/);
  });

  it('lets a second writer use its own file beside the first', async () => {
    const dir = await tempDir();
    const main = await openIn(dir);
    const other = await openIn(dir, 'run_log.gate.md');
    await main.append({ event: 'startup', message: 'main' });
    expect((await other.append({ event: 'startup', message: 'gate' })).seq).toBe(1);
  });

  it('refuses a lock held by another live process on this host', async () => {
    const dir = await tempDir();
    const child = spawn('sleep', ['30']);
    children.push(child);
    await writeLock(dir, { pid: child.pid, host: hostname() });
    await expect(openIn(dir)).rejects.toThrow(new RegExp(`pid ${child.pid} is running`));
    // Refused, not taken: the holder's lock is untouched.
    expect(JSON.parse(await readFile(lockOf(dir), 'utf8')).pid).toBe(child.pid);
  });

  it('takes over a stale lock whose process is dead', async () => {
    const dir = await tempDir();
    const pid = await deadPid();
    await writeLock(dir, { pid, host: hostname() });
    const log = await openIn(dir);
    expect((await log.append({ event: 'startup', message: 'took over' })).seq).toBe(1);
    expect(JSON.parse(await readFile(lockOf(dir), 'utf8')).pid).toBe(process.pid);
  });

  it("takes over a lock with this process's pid that this process did not take (a restarted container's pid 1)", async () => {
    const dir = await tempDir();
    await writeLock(dir, { pid: process.pid, host: hostname() });
    const log = await openIn(dir);
    expect((await log.append({ event: 'startup', message: 'successor' })).seq).toBe(1);
  });

  it('refuses a lock from another host, whose process it cannot check', async () => {
    const dir = await tempDir();
    await writeLock(dir, { pid: await deadPid(), host: 'some-other-host' });
    await expect(openIn(dir)).rejects.toThrow(/on host some-other-host/);
  });

  it('refuses a lock file it cannot read rather than guess', async () => {
    const dir = await tempDir();
    await writeFile(lockOf(dir), '');
    await expect(openIn(dir)).rejects.toThrow(/unreadable/);
  });
});

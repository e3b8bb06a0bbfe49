import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Plan } from '../contracts/index.js';

/**
 * Write-ahead intents: before an executor's first Docker change, what it is about to do is on disk
 * (fsynced), and each step is recorded before it is taken. After a crash, recovery reads these to
 * finish the change or restore the release the plan names (for production: only that one).
 * An intent file is Helm's own bookkeeping and is removed once its operation has ended.
 */
export interface Intent {
  op: string;
  service: string;
  action: string;
  job_id: string;
  approval_id: string | null;
  plan_hash: string;
  from_release: string | null;
  to_release: string | null;
  step: string;
  at: string;
  /**
   * The plan the operation runs (hashing to plan_hash), so recovery can finish it even when its exec
   * job is gone (the start-up sweep). Absent in intents written before it was added.
   */
  plan?: Plan;
  /** What the step's change is about (its container, for remove the volumes it deletes), as announced. */
  detail?: Record<string, unknown>;
}

export interface IntentStore {
  write(intent: Intent): Promise<void>;
  done(op: string): Promise<void>;
  list(): Promise<Intent[]>;
}

export function makeIntentStore(memoryDir: string): IntentStore {
  const dir = join(memoryDir, 'intents');
  const file = (op: string) => join(dir, `${op.replace(/[^A-Za-z0-9_.-]/g, '_')}.json`);
  return {
    async write(intent) {
      await mkdir(dir, { recursive: true });
      const tmp = `${file(intent.op)}.tmp`;
      const handle = await open(tmp, 'w', 0o600);
      try {
        await handle.writeFile(`${JSON.stringify(intent)}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, file(intent.op));
      // The rename must be durable too: sync the folder.
      const folder = await open(dir, 'r');
      try {
        await folder.sync();
      } finally {
        await folder.close();
      }
    },
    async done(op) {
      await unlink(file(op)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    },
    async list() {
      let names: string[];
      try {
        names = (await readdir(dir)).filter((n) => n.endsWith('.json'));
      } catch {
        return [];
      }
      return Promise.all(names.map(async (n) => JSON.parse(await readFile(join(dir, n), 'utf8')) as Intent));
    },
  };
}

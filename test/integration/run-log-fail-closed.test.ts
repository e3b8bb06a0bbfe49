// When the run log cannot be written (here: its disk is full), Helm fails closed for changes, goes on
// with reads (logged: false) and alerts helm_degraded.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rmdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeTestContainers, startWebService } from '../helpers/docker.js';
import { uniqueName, waitFor } from '../helpers/containers.js';
import { busClient, cardRequest, startTestHelm } from '../helpers/helm.js';

let mountPoint: string | undefined;
afterAll(async () => {
  await removeTestContainers();
  if (mountPoint) {
    execFileSync('umount', [mountPoint]);
    await rmdir(mountPoint);
  }
});

describe('an unwritable run log', () => {
  it('lets reads go on unlogged, refuses changes, and raises helm_degraded', async () => {
    mountPoint = await mkdtemp(path.join(os.tmpdir(), 'helm-full-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mountPoint]);
    const h = await startTestHelm({ HELM_MEMORY_DIR: mountPoint });
    const bus = await busClient(h.prefix);
    try {
      const service = uniqueName('full-web');
      await startWebService({ labels: { 'ghost.service': service } });
      expect((await bus.request(cardRequest({ target: service, environment: 'dev' }))).logged).toBe(true);

      // Fill the disk to the last byte.
      await writeFile(path.join(mountPoint, 'filler'), Buffer.alloc(1024 * 1024)).catch(() => undefined);

      // The log's last page may still have room: keep reading until an entry no longer fits.
      let read = await bus.request(cardRequest({ target: service, environment: 'dev' }));
      for (let i = 0; i < 100 && read.logged; i += 1) {
        expect(read.status).toBe('executed');
        read = await bus.request(cardRequest({ target: service, environment: 'dev' }));
      }
      expect(read.status).toBe('executed');
      expect(read.logged).toBe(false);
      expect(h.helm.runLog.status().healthy).toBe(false);

      const change = await bus.request(
        cardRequest({ action: 'restart', target: service, environment: 'dev' }),
      );
      expect(change.status).toBe('failed');
      expect(change.logged).toBe(false);
      expect((change.error as { message: string }).message).toMatch(
        /cannot write its run log.*changes nothing it cannot log/,
      );

      const degraded = await waitFor(
        async () => (await bus.alertsSent()).find((a) => a.kind === 'helm_degraded'),
        'helm_degraded',
      );
      expect(degraded).toMatchObject({ severity: 'critical', dedup_key: 'helm_degraded:run_log' });
      expect(String(degraded.message)).toContain('cannot write its run log');
    } finally {
      await bus.close();
      await h.close();
    }
  });
});

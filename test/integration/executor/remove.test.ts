// remove on the real engine: with volumes, a named volume's content is archived first (Docker's archive
// API on the stopped container) under <memory>/archives/<service>/, then the container and the volume
// go and the result names the archive; an archive that would not fit the free space refuses the whole
// removal; without volumes the data stays; a volume another service mounts is refused.
// Archives are the owner's: this file never deletes one (they stay in the test's temp memory folder).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DockerOps } from '../../../src/docker/docker-ports.js';
import type { ExecContext, ExecMeta } from '../../../src/executor/exec-context.js';
import {
  METHOD_OF_MAINTENANCE_STEP,
  type MaintenanceStepName,
} from '../../../src/executor/maintenance-steps.js';
import { removeService } from '../../../src/executor/remove.js';
import { removeTestContainers, testDocker, testLabels } from '../../helpers/docker.js';
import { uniqueName } from '../../helpers/containers.js';
import { removeVolumes, startVolumeService, volumeExists } from './volume-service.js';
import { exists, type Harness, type LogEntry, makeHarness, resolveService } from './exec-harness.js';

const meta: ExecMeta = { requestId: null, approvalId: null, environment: 'dev' };
const volumes: string[] = [];
let h: Harness;
let ctx: ExecContext;

beforeAll(() => {
  h = makeHarness();
  // The harness records the container calls; record the volume and image calls too.
  const docker = h.ctx.docker;
  const recorded = new Proxy(docker, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (prop === 'removeVolume' || prop === 'removeImage')
        return (...args: unknown[]) => {
          h.log.push({ kind: 'docker', method: prop, args, at: Date.now() });
          return (value as (...a: unknown[]) => unknown)(...args);
        };
      return value;
    },
  }) as DockerOps;
  ctx = { ...h.ctx, docker: recorded };
});
afterAll(async () => {
  await removeTestContainers();
  await removeVolumes(volumes);
  // The memory folder holds archives, which are never deleted: it stays under the temp dir.
});

function expectAnnounced(log: readonly LogEntry[]): void {
  for (const [i, e] of log.entries()) {
    if (e.kind !== 'docker') continue;
    const before = log[i - 1];
    expect(before?.kind, `docker ${e.method} (entry ${i}) was not announced`).toBe('announce');
    const step = (before as { step: MaintenanceStepName }).step;
    expect(METHOD_OF_MAINTENANCE_STEP[step], `step ${step} before docker ${e.method}`).toBe(e.method);
  }
}

/** A "db": a worker that writes a file into its named volume at /data, then runs. */
async function startDb(opts: { service?: string; volume?: string } = {}) {
  const service = opts.service ?? uniqueName('db');
  const volume = opts.volume ?? `helm-test-${uniqueName('data')}`;
  if (!volumes.includes(volume)) {
    volumes.push(volume);
    await testDocker().createVolume({ Name: volume, Labels: testLabels() });
  }
  const c = await startVolumeService({
    service,
    environment: 'dev',
    volume,
    script: `echo "rows of ${service}" > /data/table.txt; mkdir -p /data/sub; echo more > /data/sub/b.txt`,
  });
  return { service, volume, id: c.id };
}

/** The files of a tar archive and their contents (ustar headers, 512-byte blocks). */
function tarFiles(path: string): Record<string, string> {
  const buf = readFileSync(path);
  const out: Record<string, string> = {};
  for (let off = 0; off + 512 <= buf.length; ) {
    const header = buf.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const name = header.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
    const size = Number.parseInt(
      header.subarray(124, 136).toString('utf8').replace(/\0.*$/s, '').trim() || '0',
      8,
    );
    const type = String.fromCharCode(header[156]!);
    if (type === '0' || type === '\0') out[name] = buf.subarray(off + 512, off + 512 + size).toString('utf8');
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

describe('remove', () => {
  it('with volumes: archives the named volume, then removes the container and the volume', async () => {
    const db = await startDb();
    h.reset();
    const t0 = performance.now();
    const out = await removeService(
      ctx,
      await resolveService(db.service),
      { volumes: true, archive: true },
      meta,
    );
    console.log(
      `[remove] with volume: ${Math.round(performance.now() - t0)} ms — ${out.ok ? out.outcome : out.message}`,
    );
    expect(out).toMatchObject({ ok: true, data: { removed: [db.service], volumes_deleted: [db.volume] } });
    if (!out.ok) throw new Error('unreachable');
    const archive = (out.data!['archives'] as Array<{ path: string; volume: string; bytes: number }>)[0]!;
    expect(archive.path).toMatch(
      new RegExp(`^${h.memoryDir}/archives/${db.service}/${db.volume}-[0-9]{8}T[0-9]{9}Z\\.tar$`),
    );
    expect(out.outcome).toMatch(
      new RegExp(
        `^removed ${db.service} and its volume data \\(${db.volume}; archived to ${archive.path}\\) in [0-9.]+ s$`,
      ),
    );
    expect(tarFiles(archive.path)).toEqual({
      'data/table.txt': `rows of ${db.service}\n`,
      'data/sub/b.txt': 'more\n',
    });
    expect(await exists(db.id)).toBe(false);
    expect(await volumeExists(db.volume)).toBe(false);
    expect(h.steps()).toEqual(['stop_for_remove', 'remove_container', 'remove_volume']);
    expectAnnounced(h.log);
  });

  it('refuses the whole removal when the archive would not fit the free space', async () => {
    const db = await startDb();
    h.reset();
    const out = await removeService(
      ctx,
      await resolveService(db.service),
      { volumes: true, archive: true },
      meta,
      { freeBytes: async () => 4 * 1024 * 1024 },
    );
    expect(out).toMatchObject({ ok: false, code: 'not_supported' });
    if (out.ok) throw new Error('unreachable');
    expect(out.message).toContain('the removal is refused');
    expect(out.message).toContain('nothing was changed');
    expect(h.log).toEqual([]);
    expect((await testDocker().getContainer(db.id).inspect()).State.Running).toBe(true);
    expect(await volumeExists(db.volume)).toBe(true);
  });

  it('without volumes: the container goes, the data stays', async () => {
    const db = await startDb();
    h.reset();
    const out = await removeService(
      ctx,
      await resolveService(db.service),
      { volumes: false, archive: true },
      meta,
    );
    expect(out).toMatchObject({
      ok: true,
      data: { volumes_deleted: [], volumes_kept: [db.volume], archives: [] },
    });
    if (!out.ok) throw new Error('unreachable');
    expect(out.outcome).toMatch(
      new RegExp(`^removed ${db.service} \\(1 container\\); its 1 volume was kept: ${db.volume} in`),
    );
    expect(await exists(db.id)).toBe(false);
    expect(await volumeExists(db.volume)).toBe(true);
    expect(h.steps()).toEqual(['stop_for_remove', 'remove_container']);
  });

  it('refuses to delete a volume another service mounts', async () => {
    const a = await startDb();
    const b = await startDb({ volume: a.volume });
    h.reset();
    const out = await removeService(
      ctx,
      await resolveService(a.service),
      { volumes: true, archive: false },
      meta,
    );
    expect(out).toMatchObject({ ok: false, code: 'not_supported' });
    if (out.ok) throw new Error('unreachable');
    expect(out.message).toContain(`also mounted by container ${b.service}`);
    expect(h.log).toEqual([]);
    expect(await exists(a.id)).toBe(true);
  });
});

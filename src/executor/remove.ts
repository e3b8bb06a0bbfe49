import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ActionOutcome } from '../actions/action-types.js';
import type { PlanFor } from '../contracts/index.js';
import type { ContainerInspect } from '../docker/docker-objects.js';
import type { ContainerSummary } from '../docker/docker-ports.js';
import { LABEL } from '../docker/labels.js';
import type { ResolvedService } from '../docker/target-resolution.js';
import { announce, type ExecContext, type ExecMeta, rethrowAbort } from './exec-context.js';
import { onContainers, type OnContainers, NOTHING_CHANGED, errorOutcome } from './operation-prelude.js';
import { isKeptContainer } from '../docker/kept-containers.js';
import { MAINTENANCE_STEP as STEP } from './maintenance-steps.js';
import { stopTimeout } from './replica-switch.js';
import { nameOf } from './target-containers.js';
import { plural, secondsText } from './outcome-words.js';
import {
  ARCHIVE_RESERVE_BYTES,
  archiveDir,
  archiveEstimate,
  archiveVolume,
  type FreeBytes,
  mib,
  statfsFreeBytes,
  type VolumeArchive,
} from './volume-archive.js';

export type RemoveDesired = PlanFor<'remove'>['desired'];

export interface RemoveOptions {
  /** Free space under the archive folder (default statfs); tests make the disk look full. */
  freeBytes?: FreeBytes;
}

/**
 * Removes a service's containers (all replicas, stopped ones and a scale template included).
 *
 * With `volumes: true` it also deletes every volume they mount, named ones included. Unless
 * `archive: false`, each volume's content is first saved as a tar archive under
 * `<memoryDir>/archives/<service>/` (volume-archive.ts), read through Docker's archive API from the
 * stopped container; if the archives would not fit the free space (statfs, with 16 MiB to spare),
 * or Docker cannot tell a volume's size, the removal is refused before any change.
 * A volume that a container of another service also mounts is refused before any change (Helm
 * deletes a volume only with every container that uses it); the service's own kept containers of
 * earlier releases that mount it are removed with it (they hold the same data) and named.
 *
 * Order: stop_for_remove (running containers) → archives → remove_container (each) → remove_volume
 * (each). An archive that fails starts the stopped containers again (restart_after_archive) and
 * deletes nothing. Containers are removed without Docker's `-v`; volumes only by remove_volume.
 */
export async function removeService(
  ctx: ExecContext,
  service: ResolvedService,
  desired: RemoveDesired,
  _meta: ExecMeta,
  opts: RemoveOptions = {},
): Promise<ActionOutcome> {
  return onContainers(
    ctx,
    service,
    {
      what: `removal of ${service.name} failed`,
      refusing: 'remove it',
      ifNone: `${service.name} has no container to remove; ${NOTHING_CHANGED}`,
    },
    (op) => remove(op, desired, opts),
  );
}

interface VolumeToDelete {
  name: string;
  /** A container of this removal that mounts it, and where (the archive is read there). */
  container: string;
  mount: string;
}

function isUp(info: ContainerInspect): boolean {
  return info.State.Running || info.State.Restarting;
}

/** A kept container (`<name>-helm-rN`) of an earlier release of this service. */
function isOwnKept(c: ContainerSummary, service: ResolvedService): boolean {
  if (!isKeptContainer(c)) return false;
  if (service.via === 'ghost.service') return c.labels[LABEL.service] === service.name;
  if (service.via === 'compose')
    return (
      c.labels[LABEL.composeService] === service.name &&
      (c.labels[LABEL.composeProject] ?? null) === service.composeProject
    );
  return c.name.startsWith(`${service.name}-`);
}

async function remove(op: OnContainers, desired: RemoveDesired, opts: RemoveOptions): Promise<ActionOutcome> {
  const { ctx, service, infos, started } = op;
  const name = service.name;
  const volumes = volumesOf(infos);
  const kept = desired.volumes ? await keptWithVolumes(ctx, service, infos, volumes) : [];
  if (!Array.isArray(kept)) return kept;
  const keptInfos = await Promise.all(kept.map((c) => ctx.docker.inspectContainer(c.id)));

  // Will the archives fit?
  const archiving = desired.volumes && desired.archive && volumes.length > 0;
  const budget = archiving ? await archiveBudget(ctx, name, volumes, opts) : 0;
  if (typeof budget !== 'number') return budget;

  // Every step names the volumes that go: once their containers are gone, recovery knows them only so.
  const going = desired.volumes ? { volumes: volumes.map((v) => v.name) } : {};
  // Stop what runs, so the archives are consistent and nothing writes while the data goes.
  const stopped: ContainerInspect[] = [];
  for (const info of [...infos, ...keptInfos]) {
    if (!isUp(info)) continue;
    await announce(ctx, STEP.stopForRemove, {
      replica: nameOf(info),
      container: info.Id,
      timeout_s: stopTimeout(info),
      ...going,
    });
    await ctx.docker.stopContainer(info.Id, stopTimeout(info));
    stopped.push(info);
  }

  const archives: VolumeArchive[] = [];
  if (archiving) {
    const failed = await archiveAll(ctx, name, volumes, budget, archives, stopped);
    if (failed) return failed;
  }

  const removed: string[] = [];
  for (const info of [...infos, ...keptInfos]) {
    await announce(ctx, STEP.removeContainer, { replica: nameOf(info), container: info.Id, ...going });
    await ctx.docker.removeContainer(info.Id, { volumes: false });
    removed.push(nameOf(info));
  }

  const deleted: string[] = [];
  if (desired.volumes) {
    const failed = await deleteVolumes(ctx, volumes, deleted, { removed, archives });
    if (failed) return failed;
  }
  return removedOutcome({ name, desired, volumes, keptInfos, removed, deleted, archives, started });
}

/** The volumes the service's containers mount, each with one container that mounts it and where. */
function volumesOf(infos: readonly ContainerInspect[]): VolumeToDelete[] {
  const volumes: VolumeToDelete[] = [];
  for (const info of infos)
    for (const m of info.Mounts ?? [])
      if (m.Type === 'volume' && m.Name && !volumes.some((v) => v.name === m.Name))
        volumes.push({ name: m.Name, container: info.Id, mount: m.Destination });
  return volumes;
}

/** Who else mounts the volumes: the service's own kept containers go with them; anyone else stops it. */
async function keptWithVolumes(
  ctx: ExecContext,
  service: ResolvedService,
  infos: readonly ContainerInspect[],
  volumes: readonly VolumeToDelete[],
): Promise<ContainerSummary[] | ActionOutcome> {
  const name = service.name;
  const ours = new Set(infos.map((i) => i.Id));
  const kept = new Map<string, ContainerSummary>();
  for (const v of volumes) {
    for (const c of await ctx.docker.containersUsingVolume(v.name)) {
      if (ours.has(c.id)) continue;
      if (isOwnKept(c, service)) kept.set(c.id, c);
      else
        return {
          ok: false,
          code: 'not_supported',
          message: `volume ${v.name} of ${name} is also mounted by container ${c.name}, which is not part of ${name}: Helm deletes a volume only together with every container that uses it; ${NOTHING_CHANGED}`,
        };
    }
  }
  return [...kept.values()];
}

/** How many bytes the archives may take (free space less the reserve), or why they would not fit. */
async function archiveBudget(
  ctx: ExecContext,
  name: string,
  volumes: readonly VolumeToDelete[],
  opts: RemoveOptions,
): Promise<number | ActionOutcome> {
  const nothing = NOTHING_CHANGED;
  const dir = archiveDir(ctx.memoryDir, name);
  const usage = new Map((await ctx.docker.volumeUsage()).map((u) => [u.name, u.sizeBytes]));
  let need = 0;
  for (const v of volumes) {
    const size = usage.get(v.name);
    if (size === undefined || size === null)
      return {
        ok: false,
        code: 'not_supported',
        message: `Docker cannot tell the size of volume ${v.name}, so Helm cannot tell whether its archive fits the disk; remove with archive: false to delete it without an archive; ${nothing}`,
      };
    need += archiveEstimate(size);
  }
  const free = await (opts.freeBytes ?? statfsFreeBytes)(existingAncestor(dir));
  const budget = free - ARCHIVE_RESERVE_BYTES;
  if (need > budget)
    return {
      ok: false,
      code: 'not_supported',
      message: `the archive of ${plural(volumes.length, 'volume')} of ${name} (${volumes.map((v) => v.name).join(', ')}) needs about ${mib(need)} and only ${mib(Math.max(0, free))} are free under ${dir} (${mib(ARCHIVE_RESERVE_BYTES)} are always left free): the removal is refused; free some space or remove with archive: false; ${nothing}`,
    };
  return budget;
}

/** Each volume archived (into `archives`); a failure starts the stopped containers again and deletes nothing. */
async function archiveAll(
  ctx: ExecContext,
  name: string,
  volumes: readonly VolumeToDelete[],
  budget: number,
  archives: VolumeArchive[],
  stopped: readonly ContainerInspect[],
): Promise<ActionOutcome | null> {
  try {
    for (const v of volumes) {
      const a = await archiveVolume(ctx.docker, {
        memoryDir: ctx.memoryDir,
        service: name,
        volume: v.name,
        containerId: v.container,
        mount: v.mount,
        at: ctx.clock.now(),
        limitBytes: budget,
      });
      budget -= a.bytes;
      archives.push(a);
    }
    return null;
  } catch (err) {
    rethrowAbort(err);
    const restarted: string[] = [];
    for (const info of stopped) {
      await announce(ctx, STEP.restartAfterArchive, { replica: nameOf(info), container: info.Id });
      await ctx.docker.startContainer(info.Id);
      restarted.push(nameOf(info));
    }
    const failed = errorOutcome(err, `archiving the volumes of ${name} failed`);
    return {
      ok: false,
      code: failed.ok ? 'internal' : failed.code,
      message: `${failed.ok ? failed.outcome : failed.message}; nothing was deleted${restarted.length > 0 ? ` and ${restarted.join(', ')} ${restarted.length === 1 ? 'was' : 'were'} started again` : ''}${archives.length > 0 ? ` (archives already written are kept: ${archives.map((a) => a.path).join(', ')})` : ''}`,
      data: { archives: archives.map(archiveData) },
    };
  }
}

/** Each volume deleted (into `deleted`), after the containers; a failure names what is already gone. */
async function deleteVolumes(
  ctx: ExecContext,
  volumes: readonly VolumeToDelete[],
  deleted: string[],
  done: { removed: readonly string[]; archives: readonly VolumeArchive[] },
): Promise<ActionOutcome | null> {
  const { removed, archives } = done;
  for (const v of volumes) {
    await announce(ctx, STEP.removeVolume, { volume: v.name, volumes: volumes.map((x) => x.name) });
    try {
      await ctx.docker.removeVolume(v.name);
    } catch (err) {
      rethrowAbort(err);
      const failed = errorOutcome(err, `volume ${v.name} could not be deleted`);
      return {
        ok: false,
        code: failed.ok ? 'internal' : failed.code,
        message: `removed ${removed.join(', ')}${deleted.length > 0 ? ` and volumes ${deleted.join(', ')}` : ''}, but ${failed.ok ? failed.outcome : failed.message}${archives.length > 0 ? `; archives: ${archives.map((a) => a.path).join(', ')}` : ''}`,
        data: { removed, volumes_deleted: deleted, archives: archives.map(archiveData) },
      };
    }
    deleted.push(v.name);
  }
  return null;
}

function removedOutcome(d: {
  name: string;
  desired: RemoveDesired;
  volumes: readonly VolumeToDelete[];
  keptInfos: readonly ContainerInspect[];
  removed: string[];
  deleted: string[];
  archives: readonly VolumeArchive[];
  started: number;
}): ActionOutcome {
  const { name, desired, volumes, keptInfos, removed, deleted, archives } = d;
  const ms = performance.now() - d.started;
  const keptText =
    keptInfos.length > 0
      ? `; with it ${plural(keptInfos.length, 'kept container')} of earlier releases that mounted that data (${keptInfos.map(nameOf).join(', ')})`
      : '';
  let what: string;
  if (desired.volumes && deleted.length > 0) {
    const how =
      archives.length > 0
        ? `archived to ${archives.map((a) => a.path).join(', ')}`
        : 'not archived, as the request asked';
    what = `removed ${name} and its volume data (${deleted.join(', ')}; ${how})`;
  } else if (volumes.length > 0) {
    what = `removed ${name} (${plural(removed.length, 'container')}); its ${plural(volumes.length, 'volume')} ${volumes.length === 1 ? 'was' : 'were'} kept: ${volumes.map((v) => v.name).join(', ')}`;
  } else {
    what = `removed ${name} (${plural(removed.length, 'container')})`;
  }
  return {
    ok: true,
    outcome: `${what} in ${secondsText(ms)}${keptText}`,
    data: {
      service: name,
      removed,
      volumes_deleted: deleted,
      volumes_kept: desired.volumes ? [] : volumes.map((v) => v.name),
      archives: archives.map(archiveData),
      ms: Math.round(ms),
    },
  };
}

function archiveData(a: VolumeArchive) {
  return { volume: a.volume, path: a.path, bytes: a.bytes, sha256: a.sha256, mount: a.mount };
}

/** statfs needs a path that exists: the archive folder, or the nearest folder above it. */
function existingAncestor(dir: string): string {
  let d = dir;
  while (!existsSync(d) && dirname(d) !== d) d = dirname(d);
  return d;
}

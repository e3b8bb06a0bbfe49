import type { ContainerInspect } from '../docker/docker-objects.js';
import type { ReleaseRecord, ReleaseStore } from './release-store.js';
import type { ReleaseInfo } from '../plan/desired-state.js';

/**
 * What a deploy or rollback plan names about releases (CONTRACT.md: replaces_release, new_release,
 * to_release), read from the executor's release records. The gate and the executor read it the same
 * way, so the executor's recomputed plan hashes the same unless the releases really changed. With the
 * service's containers, a service Helm has not deployed yet has them adopted as a release first,
 * exactly as the deploy will record them.
 */
export async function releaseInfo(
  store: ReleaseStore,
  service: string,
  containers?: readonly ContainerInspect[],
): Promise<ReleaseInfo> {
  const [current, all] = await Promise.all([store.currentRelease(service), store.listReleases(service)]);
  const ids = containers
    ? await planReleaseIds(store, service, containers)
    : { replaces_release: current?.id ?? null, new_release: await store.nextReleaseId(service) };
  return {
    current: ids.replaces_release,
    next: ids.new_release,
    previous: current?.previous ?? null,
    byId: Object.fromEntries(all.map((r) => [r.id, { image_id: r.image_id }])),
  };
}

/** The recorded release that `infos` are, or null (never deployed by Helm, or changed by hand since). */
export async function recordedReleaseOf(
  ctx: { releases: ReleaseStore },
  service: string,
  infos: readonly ContainerInspect[],
): Promise<ReleaseRecord | null> {
  if (infos.length === 0) return null;
  const ids = infos.map((i) => i.Id).sort();
  const matches = (r: ReleaseRecord | null) =>
    !!r &&
    r.image_id === infos[0]!.Image &&
    JSON.stringify(r.containers.map((c) => c.id).sort()) === JSON.stringify(ids);
  const current = await ctx.releases.currentRelease(service);
  if (matches(current)) return current;
  const labelled = infos[0]!.Config.Labels?.['helm.release'];
  const byLabel = labelled ? await ctx.releases.getRelease(service, labelled) : null;
  return matches(byLabel) ? byLabel : null;
}

/**
 * Release ids for a deploy plan: what runs now (a recorded release, or the containers Helm found,
 * which the deploy records under the next id) and the id the new release gets.
 */
export async function planReleaseIds(
  releases: ReleaseStore,
  service: string,
  infos: readonly ContainerInspect[],
): Promise<{ replaces_release: string | null; new_release: string }> {
  const recorded = await recordedReleaseOf({ releases }, service, infos);
  const next = await releases.nextReleaseId(service);
  if (recorded || infos.length === 0) return { replaces_release: recorded?.id ?? null, new_release: next };
  return { replaces_release: next, new_release: `r${Number(next.slice(1)) + 1}` };
}

/**
 * The release a rollback without `to` goes back to (the one the running release replaced), with its
 * image id: what a rollback plan's `desired` names. Null when there is none.
 */
export async function defaultRollbackTarget(
  releases: ReleaseStore,
  service: string,
  infos: readonly ContainerInspect[],
): Promise<{ to_release: string; image_id: string } | null> {
  const current =
    (await recordedReleaseOf({ releases }, service, infos)) ?? (await releases.currentRelease(service));
  const previous = current?.previous ? await releases.getRelease(service, current.previous) : null;
  return previous ? { to_release: previous.id, image_id: previous.image_id } : null;
}

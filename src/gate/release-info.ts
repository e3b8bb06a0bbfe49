import type { ReleaseStore } from '../executor/release-store.js';
import type { ReleaseInfo } from '../plan/desired-state.js';

/**
 * What a deploy or rollback plan names about releases (CONTRACT.md: replaces_release, new_release,
 * to_release), read from the executor's release records. The gate and the executor read it the same
 * way, so the executor's recomputed plan hashes the same unless the releases really changed.
 */
export async function releaseInfo(store: ReleaseStore, service: string): Promise<ReleaseInfo> {
  const [current, all, next] = await Promise.all([
    store.currentRelease(service),
    store.listReleases(service),
    store.nextReleaseId(service),
  ]);
  return {
    current: current?.id ?? null,
    next,
    previous: current?.previous ?? null,
    byId: Object.fromEntries(all.map((r) => [r.id, { image_id: r.image_id }])),
  };
}

import type { ContainerInspect } from '../docker/docker-client.js';
import { planReleaseIds } from '../executor/release-records.js';
import type { ReleaseStore } from '../executor/release-store.js';
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

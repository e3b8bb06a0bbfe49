import type { PlanFor } from '../contracts/index.js';
import type { ContainerSummary, DockerReads, ImageSummary } from '../docker/docker-ports.js';
import { LABEL } from '../docker/labels.js';
import { HELM_LABEL } from '../docker/helm-labels.js';
import { keptRelease } from '../docker/kept-containers.js';
import { type ReleaseRecord, type ReleaseStore, releaseTag } from '../releases/release-store.js';

/**
 * What `prune` may delete (pure): only what Helm made and no longer needs.
 *
 * Containers: a kept container (`<name>-helm-rN`, stopped and renamed when its release was replaced)
 * that Helm itself created for release rN (labels `helm.op` and `helm.release=rN`: the containers
 * Helm found and adopted are the owner's and never pruned), in scope, whose service's release
 * records no longer keep rN and whose rN is older than the oldest kept release. A scale template
 * keeps its service's name, so it is never one; nor is a container of a service Helm has no records
 * of (another Helm's, or records lost).
 *
 * Images: an image whose every tag is one of Helm's release tags (`helm-release/<service>-<hash>:rN`)
 * of a service Helm has records of, for a release those records no longer keep and older than the
 * oldest kept one, and whose id is no kept release's image. An image with any other tag, an untagged
 * image, and an image a kept release tags are never candidates.
 *
 * Whether a candidate is in use now (a running container, a container using an image) is checked
 * when the prune runs: the plan lists what would go; the executor skips what is in use and says so.
 */
export interface PruneInput {
  containers: readonly ContainerSummary[];
  images: readonly ImageSummary[];
  /** Service → the release records Helm keeps for it (a service absent or empty: unknown, nothing of it goes). */
  releases: ReadonlyMap<string, readonly ReleaseRecord[]>;
  /** Whether this Helm manages a container (its scope). */
  isManaged(labels: Readonly<Record<string, string>>): boolean;
}

export interface PruneCandidate {
  id: string;
  /** Container name, or the image's tags. */
  name: string;
  why: string;
}

export function releaseNumber(id: string): number | null {
  const m = /^r([0-9]+)$/.exec(id);
  return m ? Number(m[1]) : null;
}

/** The service a container belongs to: its ghost.service label, its compose service, else its name. */
export function serviceOfContainer(c: Pick<ContainerSummary, 'name' | 'labels'>): string {
  const label = c.labels[LABEL.service] ?? c.labels[LABEL.composeService];
  if (label) return label;
  return c.name.replace(/-helm-r[0-9]+$/, '');
}

/** The services whose release records a prune must read: those of the managed containers. */
export function servicesOf(
  containers: readonly ContainerSummary[],
  isManaged: PruneInput['isManaged'],
): string[] {
  return [...new Set(containers.filter((c) => isManaged(c.labels)).map(serviceOfContainer))].sort();
}

/** Why release `id` of a service with these records is superseded beyond the kept ones, or null. */
function superseded(id: string, records: readonly ReleaseRecord[] | undefined): string | null {
  if (!records || records.length === 0) return null;
  const n = releaseNumber(id);
  if (n === null || records.some((r) => r.id === id)) return null;
  const numbers = records.map((r) => releaseNumber(r.id)).filter((x): x is number => x !== null);
  if (numbers.length === 0) return null;
  const oldest = Math.min(...numbers);
  return n < oldest ? `release ${id} is older than the ${records.length} kept (r${oldest} and later)` : null;
}

export function pruneContainerCandidates(input: PruneInput): PruneCandidate[] {
  const out: PruneCandidate[] = [];
  for (const c of input.containers) {
    const rel = keptRelease(c.name);
    if (rel === null || !input.isManaged(c.labels)) continue;
    if (!c.labels[HELM_LABEL.op] || c.labels[HELM_LABEL.release] !== rel) continue;
    const service = serviceOfContainer(c);
    const why = superseded(rel, input.releases.get(service));
    if (why) out.push({ id: c.id, name: c.name, why: `kept container of ${service}: ${why}` });
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export function pruneImageCandidates(input: PruneInput): PruneCandidate[] {
  const repoOf = new Map<string, string>();
  const keptImages = new Set<string>();
  for (const [service, records] of input.releases) {
    repoOf.set(releaseTag(service, 'r1').repo, service);
    for (const r of records) keptImages.add(r.image_id);
  }
  const out: PruneCandidate[] = [];
  for (const img of input.images) {
    if (img.repoTags.length === 0 || keptImages.has(img.id)) continue;
    const reasons: string[] = [];
    for (const ref of img.repoTags) {
      const colon = ref.lastIndexOf(':');
      const repo = ref.slice(0, colon);
      const tag = ref.slice(colon + 1);
      const service = repo.startsWith('helm-release/') ? repoOf.get(repo) : undefined;
      const why = service ? superseded(tag, input.releases.get(service)) : null;
      if (!service || !why || releaseTag(service, tag).ref !== ref) {
        reasons.length = 0;
        break;
      }
      reasons.push(`${service} ${why}`);
    }
    if (reasons.length === img.repoTags.length)
      out.push({ id: img.id, name: img.repoTags.join(', '), why: reasons.join('; ') });
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The release records of these services. */
export async function keptReleasesOf(
  releases: ReleaseStore,
  services: readonly string[],
): Promise<Map<string, ReleaseRecord[]>> {
  const out = new Map<string, ReleaseRecord[]>();
  for (const s of services) out.set(s, await releases.listReleases(s));
  return out;
}

/** What a prune plan lists (above), on what the engine shows now. */
export async function pruneCandidates(
  docker: Pick<DockerReads, 'listContainers' | 'listImages'>,
  releases: ReleaseStore,
  what: PlanFor<'prune'>['desired']['what'],
  isManaged: PruneInput['isManaged'],
): Promise<PruneCandidate[]> {
  const containers = await docker.listContainers();
  const images = what === 'images' ? await docker.listImages() : [];
  const input: PruneInput = {
    containers,
    images,
    releases: await keptReleasesOf(releases, servicesOf(containers, isManaged)),
    isManaged,
  };
  return what === 'images' ? pruneImageCandidates(input) : pruneContainerCandidates(input);
}

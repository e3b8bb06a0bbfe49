import type { Config } from '../config/config.js';
import { formatTable } from './table.js';
import { jsonDocument, type VerbOutput } from './output.js';
import { makeReleaseStore, type ReleaseRecord } from '../releases/release-store.js';

/**
 * `helm releases <service>`: the releases Helm keeps for a service (newest first), from the release
 * records in the memory folder: id, image, image id, manifest digest, Forge's artifact_id, when,
 * request_id, approval_id, and which one runs now. Reads files only: no Redis, no Docker.
 */
export interface ReleasesListing {
  service: string;
  current: string | null;
  releases: ReleaseRecord[];
}

export async function listReleases(
  config: Readonly<Pick<Config, 'memoryDir'>>,
  service: string,
): Promise<ReleasesListing> {
  const store = makeReleaseStore(config.memoryDir);
  const [releases, current] = await Promise.all([store.listReleases(service), store.currentRelease(service)]);
  return { service, current: current?.id ?? null, releases };
}

/**
 * `helm releases`: exit 1 when none is recorded. With --json one document, `{ service, current,
 * releases }` (full ids and digests), and with none an `error` (`no_releases`) too.
 */
export function describeReleases(listing: ReleasesListing, json: boolean): VerbOutput {
  const none = listing.releases.length === 0;
  const message = `no releases recorded for ${listing.service}`;
  if (!json) return { stdout: `${releasesTable(listing)}\n`, stderr: '', exitCode: none ? 1 : 0 };
  const doc = {
    service: listing.service,
    current: listing.current,
    releases: releasesJson(listing),
    ...(none ? { error: { code: 'no_releases', message } } : {}),
  };
  return { stdout: jsonDocument(doc), stderr: none ? `helm: ${message}\n` : '', exitCode: none ? 1 : 0 };
}

/** Each release with full ids and digests, and whether it is `current`. */
export function releasesJson(listing: ReleasesListing): Record<string, unknown>[] {
  return listing.releases.map((r) => ({
    current: r.id === listing.current,
    id: r.id,
    image: r.image,
    image_id: r.image_id,
    manifest_digest: r.manifest_digest,
    artifact_id: r.artifact_id,
    created_at: r.created_at,
    request_id: r.request_id,
    approval_id: r.approval_id,
    environment: r.environment,
    adopted: r.adopted,
    previous: r.previous,
    release_tag: r.release_tag,
  }));
}

/** A table for people: `*` marks the current release; ids and digests shortened to 12 hex digits. */
export function releasesTable(listing: ReleasesListing): string {
  if (listing.releases.length === 0) return `no releases recorded for ${listing.service}`;
  const short = (v: string | null) => (v ? v.replace(/^(sha256:[0-9a-f]{12})[0-9a-f]+$/, '$1') : '-');
  const header = ['', 'RELEASE', 'IMAGE', 'IMAGE ID', 'DIGEST', 'ARTIFACT', 'CREATED', 'REQUEST', 'APPROVAL'];
  const rows = listing.releases.map((r) => [
    r.id === listing.current ? '*' : '',
    `${r.id}${r.adopted ? ' (found)' : ''}`,
    r.image,
    short(r.image_id),
    short(r.manifest_digest),
    r.artifact_id ?? '-',
    r.created_at,
    r.request_id ?? '-',
    r.approval_id ?? '-',
  ]);
  const foot = listing.current
    ? `* runs now: ${listing.current}. "(found)": the containers Helm found before its first deploy.`
    : 'no release is marked as running now';
  return [formatTable(header, rows), '', foot].join('\n');
}

import { createHash } from 'node:crypto';
import { mkdir, open, readFile } from 'node:fs/promises';
import { writeSyncRename } from '../base/durable-write.js';
import { join } from 'node:path';
import type { Release } from '../contracts/index.js';
import type { ContainerConfigRecord } from './release-config.js';

/**
 * Release records, per service, as JSON under `<memoryDir>/releases/<service>.json` (written to a
 * temporary file, synced, renamed). Ids are `r1`, `r2`, … per service and never reused, even after
 * older records were dropped. The last `keep` releases are kept (the current one always).
 * One writer per service at a time: the orchestrator's per-service lease.
 */
export interface ReleaseRecord {
  id: string;
  service: string;
  image: string;
  image_id: string;
  manifest_digest: string | null;
  artifact_id: string | null;
  /** Helm's own tag on the image (`helm-release/<service>-<hash>:<id>`): it never becomes dangling. */
  release_tag: string | null;
  created_at: string;
  request_id: string | null;
  approval_id: string | null;
  environment: string;
  op_id: string | null;
  /** The containers Helm found before its first deploy, recorded as a release so they can be restored. */
  adopted: boolean;
  /** The release this one replaced. */
  previous: string | null;
  config_digest: string;
  /** The replicas: the container names and ids last known for this release (kept ones renamed). */
  containers: Array<{ name: string; id: string; config: ContainerConfigRecord }>;
}

export interface ReleaseStore {
  /** Newest first. */
  listReleases(service: string): Promise<ReleaseRecord[]>;
  getRelease(service: string, id: string): Promise<ReleaseRecord | null>;
  currentRelease(service: string): Promise<ReleaseRecord | null>;
  /** The id the next release of `service` gets (not reserved: the lease makes one writer). */
  nextReleaseId(service: string): Promise<string>;
  /**
   * Saves (or replaces, by id) a record; with `current`, marks it as what runs now.
   * @returns the records dropped to keep the last `keep`
   */
  saveRelease(record: ReleaseRecord, opts: { current: boolean }): Promise<{ dropped: ReleaseRecord[] }>;
  setCurrent(service: string, id: string): Promise<void>;
}

export const DEFAULT_KEEP_RELEASES = 5;

interface ServiceFile {
  service: string;
  current: string | null;
  /** The highest release number ever given out, so ids are never reused. */
  last_number: number;
  /** Oldest first. */
  releases: ReleaseRecord[];
}

export function makeReleaseStore(memoryDir: string, opts: { keep?: number } = {}): ReleaseStore {
  const keep = Math.max(1, opts.keep ?? DEFAULT_KEEP_RELEASES);
  const dir = join(memoryDir, 'releases');

  async function load(service: string): Promise<ServiceFile> {
    try {
      return JSON.parse(await readFile(fileOf(dir, service), 'utf8')) as ServiceFile;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        return { service, current: null, last_number: 0, releases: [] };
      throw err;
    }
  }

  async function store(file: ServiceFile): Promise<void> {
    await mkdir(dir, { recursive: true });
    await writeFileDurably(fileOf(dir, file.service), `${JSON.stringify(file, null, 2)}\n`);
  }

  return {
    async listReleases(service) {
      return [...(await load(service)).releases].reverse();
    },
    async getRelease(service, id) {
      return (await load(service)).releases.find((r) => r.id === id) ?? null;
    },
    async currentRelease(service) {
      const f = await load(service);
      return f.releases.find((r) => r.id === f.current) ?? null;
    },
    async nextReleaseId(service) {
      return `r${(await load(service)).last_number + 1}`;
    },
    async saveRelease(record, { current }) {
      const f = await load(record.service);
      const i = f.releases.findIndex((r) => r.id === record.id);
      if (i >= 0) f.releases[i] = record;
      else f.releases.push(record);
      f.last_number = Math.max(f.last_number, releaseNumber(record.id));
      if (current) f.current = record.id;
      const dropped: ReleaseRecord[] = [];
      while (f.releases.length > keep) {
        const victim = f.releases.findIndex((r) => r.id !== f.current);
        dropped.push(...f.releases.splice(victim, 1));
      }
      await store(f);
      return { dropped };
    },
    async setCurrent(service, id) {
      const f = await load(service);
      if (!f.releases.some((r) => r.id === id))
        throw new Error(`release ${id} of ${service} is not recorded`);
      f.current = id;
      await store(f);
    },
  };
}

/** The release as ActionResult.release names it. */
export function releaseSummary(r: ReleaseRecord): Release {
  return {
    id: r.id,
    image: r.image,
    image_id: r.image_id,
    manifest_digest: r.manifest_digest,
    artifact_id: r.artifact_id,
  };
}

/**
 * Helm's own tag for a release's image: a valid repository name from the service name (lowercased,
 * everything but a-z0-9 turned into '-') plus a short hash of the exact name, so two services that
 * sanitise alike never share a repository; the release id is the tag.
 */
export function releaseTag(service: string, releaseId: string): { repo: string; tag: string; ref: string } {
  const stem =
    service
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 64) || 'service';
  const hash = createHash('sha256').update(service).digest('hex').slice(0, 8);
  const repo = `helm-release/${stem}-${hash}`;
  const tag = releaseId.replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 128);
  return { repo, tag, ref: `${repo}:${tag}` };
}

function releaseNumber(id: string): number {
  const m = /^r([0-9]+)$/.exec(id);
  return m ? Number(m[1]) : 0;
}

function fileOf(dir: string, service: string): string {
  return join(dir, `${service.replace(/[^A-Za-z0-9_.-]/g, '_')}.json`);
}

/** Temp file, fsync, rename, fsync of the folder: a crash leaves the old file or the new one. */
export async function writeFileDurably(path: string, text: string): Promise<void> {
  await writeSyncRename(path, text, { temp: `${path}.${process.pid}.tmp`, mode: 0o600 });
  const folder = await open(join(path, '..'), 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}

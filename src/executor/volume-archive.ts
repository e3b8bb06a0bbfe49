import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, statfs, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { DockerOps } from '../docker/docker-ports.js';

/**
 * A volume's content saved as a tar archive before Helm deletes the volume, through Docker's archive
 * API on a (stopped) container that mounts it: `<memoryDir>/archives/<service>/<volume>-<time>.tar`.
 * The entries are prefixed with the mount point's last component (`data/…` for a volume mounted at
 * /data). Written to a temporary file first (fsynced, then renamed), so an archive on disk is
 * always whole. Archives are the owner's: Helm never deletes one (only its own unfinished temp file).
 */
export interface VolumeArchive {
  volume: string;
  /** Absolute path of the archive. */
  path: string;
  bytes: number;
  /** "sha256:<hex>" of the archive file. */
  sha256: string;
  /** The container and mount point it was read from. */
  container: string;
  mount: string;
}

/** Free bytes for an unprivileged writer under `dir` (statfs); injectable for tests. */
export type FreeBytes = (dir: string) => Promise<number>;

export const statfsFreeBytes: FreeBytes = async (dir) => {
  const s = await statfs(dir);
  return Number(s.bavail) * Number(s.bsize);
};

/** Left free on the disk whatever the archives need, so an archive never fills it. */
export const ARCHIVE_RESERVE_BYTES = 16 * 1024 * 1024;

/**
 * What an archive of `sizeBytes` of volume data takes at most: tar adds a 512-byte header per file
 * and pads each file to 512 bytes; 10% plus 1 MiB covers that for all but folders of tiny files
 * (and the write is guarded anyway).
 */
export function archiveEstimate(sizeBytes: number): number {
  return Math.ceil(sizeBytes * 1.1) + 1024 * 1024;
}

export function archiveDir(memoryDir: string, service: string): string {
  return join(memoryDir, 'archives', safeName(service));
}

function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9_.-]/g, '_');
}

/** 2026-11-29T18:24:00.123Z → 20261129T182400123Z: sortable, no characters a shell minds. */
export function archiveStamp(at: Date): string {
  return at.toISOString().replace(/[-:.]/g, '');
}

export class ArchiveTooLargeError extends Error {
  constructor(
    readonly volume: string,
    readonly limitBytes: number,
  ) {
    super(
      `the archive of volume ${volume} grew past the ${mib(limitBytes)} the disk can spare; it was abandoned`,
    );
    this.name = this.constructor.name;
  }
}

export function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

/**
 * Streams `mount` of container `containerId` into the archive. Throws (and leaves no file behind)
 * when Docker fails, the disk fails, or more than `limitBytes` would be written.
 */
export async function archiveVolume(
  docker: Pick<DockerOps, 'archivePath'>,
  input: {
    memoryDir: string;
    service: string;
    volume: string;
    containerId: string;
    mount: string;
    at: Date;
    limitBytes: number;
  },
): Promise<VolumeArchive> {
  const dir = archiveDir(input.memoryDir, input.service);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const base = `${safeName(input.volume)}-${archiveStamp(input.at)}`;
  const tmp = join(dir, `.${base}.${process.pid}.partial`);
  const hash = createHash('sha256');
  let bytes = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      if (bytes > input.limitBytes) return done(new ArchiveTooLargeError(input.volume, input.limitBytes));
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    const stream = await docker.archivePath(input.containerId, input.mount);
    await pipeline(stream, meter, createWriteStream(tmp, { flags: 'wx', mode: 0o600 }));
    const handle = await open(tmp, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    const path = await freePath(dir, base);
    await rename(tmp, path);
    const folder = await open(dir, 'r');
    try {
      await folder.sync();
    } finally {
      await folder.close();
    }
    return {
      volume: input.volume,
      path,
      bytes,
      sha256: `sha256:${hash.digest('hex')}`,
      container: input.containerId,
      mount: input.mount,
    };
  } catch (err) {
    // Only Helm's own unfinished temporary file; never an archive.
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

/** `<base>.tar`, or `<base>-2.tar`, … when one by that name exists (an archive is never overwritten). */
async function freePath(dir: string, base: string): Promise<string> {
  for (let n = 1; ; n++) {
    const path = join(dir, n === 1 ? `${base}.tar` : `${base}-${n}.tar`);
    try {
      const h = await open(path, 'r');
      await h.close();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return path;
      throw err;
    }
  }
}

import type { ContainerInspect } from '../docker/docker-objects.js';
import { announce, type ExecContext, type ExecMeta } from './exec-context.js';
import { captureConfig, configDigest } from '../releases/release-config.js';
import { type ReleaseRecord, releaseTag } from '../releases/release-store.js';
import { writeRollbackDoc } from './rollback-doc.js';
import { nameOf } from './target-containers.js';
import { STEP } from './steps.js';

/**
 * Bookkeeping shared by deploy and rollback: which recorded release the running containers are,
 * recording the containers Helm found as a release, and Helm's own tag on a release's image.
 */

/** A record of containers as they run now (the release Helm found, or one it just created). */
export function recordOf(
  ctx: Pick<ExecContext, 'redactor' | 'clock'>,
  input: {
    id: string;
    service: string;
    image: string;
    infos: readonly ContainerInspect[];
    manifestDigest: string | null;
    artifactId: string | null;
    meta: ExecMeta;
    adopted: boolean;
    previous: string | null;
  },
): ReleaseRecord {
  const containers = input.infos.map((info) => ({
    name: nameOf(info),
    id: info.Id,
    config: captureConfig(info, ctx.redactor),
  }));
  return {
    id: input.id,
    service: input.service,
    image: input.image,
    image_id: input.infos[0]!.Image,
    manifest_digest: input.manifestDigest,
    artifact_id: input.artifactId,
    release_tag: releaseTag(input.service, input.id).ref,
    created_at: ctx.clock.now().toISOString(),
    request_id: input.meta.requestId,
    approval_id: input.meta.approvalId,
    environment: input.meta.environment,
    op_id: input.meta.opId ?? null,
    adopted: input.adopted,
    previous: input.previous,
    config_digest: configDigest(containers.map((c) => c.config)),
    containers,
  };
}

/** Tags the release's image `helm-release/<service>-<hash>:<id>`, so it never becomes dangling. */
export async function tagReleaseImage(ctx: ExecContext, record: ReleaseRecord): Promise<void> {
  const tag = releaseTag(record.service, record.id);
  await announce(ctx, STEP.tagReleaseImage, { release: record.id, image: record.image_id, tag: tag.ref });
  await ctx.docker.tagImage(record.image_id, tag.repo, tag.tag);
}

/** "sha256:cde7f10f4cae…" */
export function shortImageId(id: string): string {
  return id.startsWith('sha256:') ? `${id.slice(0, 19)}…` : id;
}

/**
 * Writes `<memoryDir>/rollback/<service>.md` for what runs now. The previous release is the one
 * `current` replaced, or else `fallback` (after a rollback: the release rolled back from).
 */
export async function writeServiceRollbackDoc(
  ctx: ExecContext,
  service: string,
  environment: string,
  event: string,
  current: ReleaseRecord,
  fallback: ReleaseRecord | null = null,
): Promise<string> {
  const recordedPrevious = current.previous ? await ctx.releases.getRelease(service, current.previous) : null;
  const previous = fallback ?? recordedPrevious;
  const previousKept: Record<string, string> = {};
  for (const c of previous?.containers ?? []) {
    const info = await ctx.docker.inspectContainer(c.id).catch(() => null);
    if (info && info.Image === previous?.image_id && !info.State.Running) previousKept[c.name] = nameOf(info);
  }
  // The image's own defaults (its PATH, its cmd) are left to it in the manual `docker run` line.
  const previousImage = previous
    ? ((await ctx.docker.inspectImage(previous.image_id).catch(() => null))?.Config ?? null)
    : null;
  return writeRollbackDoc(ctx.memoryDir, {
    service,
    environment,
    event,
    at: ctx.clock.now().toISOString(),
    current,
    previous,
    previousKept,
    previousImage,
  });
}

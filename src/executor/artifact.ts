import { DockerPullError } from '../docker/docker-errors.js';
import type { ImageInspect } from '../docker/docker-objects.js';
import { NOTHING_CHANGED } from './operation-prelude.js';
import { announce, type ExecContext } from './exec-context.js';
import { loggedStep } from './step-log.js';
import { STEP } from './steps.js';

/**
 * Verifies a deploy's artifact before anything changes. With `manifest_digest`, the engine pulls
 * `repository@digest` (unless it already has exactly that manifest) and the image must carry that
 * repo digest; with `image_id`, the image must have exactly that id (both, when both are given).
 * A production deploy names one of them (the contract refuses it otherwise; checked again here).
 */
export interface Artifact {
  /** What the container's Config.Image will say: the request's image, or repository@digest. */
  imageRef: string;
  image: ImageInspect;
  imageId: string;
  manifestDigest: string | null;
}

export type ArtifactCheck =
  | { ok: true; artifact: Artifact }
  | { ok: false; code: 'artifact_mismatch' | 'invalid_request' | 'docker_error'; message: string };

export interface ArtifactWanted {
  image: string;
  image_id: string | null;
  manifest_digest: string | null;
}

export async function verifyArtifact(
  ctx: ExecContext,
  wanted: ArtifactWanted,
  environment: string,
): Promise<ArtifactCheck> {
  if (wanted.manifest_digest) return byManifestDigest(ctx, wanted, wanted.manifest_digest);
  if (wanted.image_id) return byImageId(ctx, wanted, wanted.image_id);
  if (environment === 'production')
    return {
      ok: false,
      code: 'invalid_request',
      message: `a production deploy needs image_id or manifest_digest to say exactly what runs; ${NOTHING_CHANGED}`,
    };
  return byTag(ctx, wanted);
}

/** repository@digest, pulled when the engine lacks it; it must be the image id the plan names, if any. */
async function byManifestDigest(
  ctx: ExecContext,
  wanted: ArtifactWanted,
  digest: string,
): Promise<ArtifactCheck> {
  const nothing = NOTHING_CHANGED;
  const repo = repositoryOf(wanted.image);
  const ref = `${repo}@${digest}`;
  let image = await ctx.docker.findImage(ref);
  if (!image || !(image.RepoDigests ?? []).includes(ref)) {
    await announce(ctx, STEP.pullImage, { reference: ref });
    const auth = (await ctx.registryAuth?.(registryOf(repo))) ?? null;
    try {
      await loggedStep(ctx, STEP.pullImage, { reference: ref }, () => ctx.docker.pullImage(ref, auth));
    } catch (err) {
      if (err instanceof DockerPullError && err.notFound)
        return {
          ok: false,
          code: 'artifact_mismatch',
          message: `the registry has no manifest ${digest} for ${repo} (${ctx.redactor.redact(err.message)}); ${nothing}`,
        };
      return {
        ok: false,
        code: 'docker_error',
        message: `${ctx.redactor.redact((err as Error).message)}; ${nothing}`,
      };
    }
    image = await ctx.docker.findImage(ref);
  }
  if (!image || !(image.RepoDigests ?? []).includes(ref))
    return {
      ok: false,
      code: 'artifact_mismatch',
      message: `after the pull, no image on the engine carries the manifest digest ${ref}; ${nothing}`,
    };
  if (wanted.image_id && image.Id !== wanted.image_id)
    return {
      ok: false,
      code: 'artifact_mismatch',
      message: `${ref} is image ${image.Id}, not the expected ${wanted.image_id}; ${nothing}`,
    };
  return {
    ok: true,
    artifact: { imageRef: ref, image, imageId: image.Id, manifestDigest: digest },
  };
}

/** The tag as the engine has it, which must be exactly the image id the plan names. */
async function byImageId(ctx: ExecContext, wanted: ArtifactWanted, imageId: string): Promise<ArtifactCheck> {
  const nothing = NOTHING_CHANGED;
  const image = await ctx.docker.findImage(wanted.image);
  if (!image)
    return {
      ok: false,
      code: 'artifact_mismatch',
      message: `image ${wanted.image} is not on this engine; ${nothing}`,
    };
  if (image.Id !== imageId)
    return {
      ok: false,
      code: 'artifact_mismatch',
      message: `image ${wanted.image} is ${image.Id} on this engine, not the expected ${imageId}; ${nothing}`,
    };
  return { ok: true, artifact: { imageRef: wanted.image, image, imageId: image.Id, manifestDigest: null } };
}

/** The tag as the engine has it, pulled when missing (not in production: the gate refuses first). */
async function byTag(ctx: ExecContext, wanted: ArtifactWanted): Promise<ArtifactCheck> {
  const nothing = NOTHING_CHANGED;
  let image = await ctx.docker.findImage(wanted.image);
  if (!image) {
    await announce(ctx, STEP.pullImage, { reference: wanted.image });
    const auth = (await ctx.registryAuth?.(registryOf(repositoryOf(wanted.image)))) ?? null;
    try {
      await loggedStep(ctx, STEP.pullImage, { reference: wanted.image }, () =>
        ctx.docker.pullImage(wanted.image, auth),
      );
    } catch (err) {
      return {
        ok: false,
        code: 'docker_error',
        message: `${ctx.redactor.redact((err as Error).message)}; ${nothing}`,
      };
    }
    image = await ctx.docker.findImage(wanted.image);
    if (!image)
      return {
        ok: false,
        code: 'docker_error',
        message: `image ${wanted.image} is missing after its pull; ${nothing}`,
      };
  }
  return { ok: true, artifact: { imageRef: wanted.image, image, imageId: image.Id, manifestDigest: null } };
}

/** The reference without its tag and digest: `127.0.0.1:5000/shop/web:2@sha256:…` → `127.0.0.1:5000/shop/web`. */
export function repositoryOf(reference: string): string {
  const noDigest = reference.split('@')[0] ?? reference;
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > slash ? noDigest.slice(0, colon) : noDigest;
}

/** The registry host of a repository: its first component when that looks like a host, else Docker Hub. */
export function registryOf(repository: string): string {
  const first = repository.split('/')[0] ?? '';
  return repository.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost')
    ? first
    : 'docker.io';
}

/**
 * Before any change of a deploy (plain or compose): the release id the plan names must still be free
 * (else the plan is stale), and the artifact must be exactly the one asked for.
 */
export async function checkNewRelease(
  ctx: ExecContext,
  service: string,
  wanted: ArtifactWanted & { new_release: string },
  environment: string,
): Promise<ArtifactCheck | { ok: false; code: 'stale_plan'; message: string }> {
  if (await ctx.releases.getRelease(service, wanted.new_release)) {
    return {
      ok: false,
      code: 'stale_plan',
      message: `release ${wanted.new_release} of ${service} already exists; nothing was changed`,
    };
  }
  return verifyArtifact(ctx, wanted, environment);
}

import type { ActionOutcome } from '../actions/action-types.js';
import type { PlanFor } from '../contracts/index.js';
import type { ContainerSummary } from '../docker/docker-ports.js';
import { announce, type ExecContext, rethrowAbort } from './exec-context.js';
import { atOperationEdge } from './operation-prelude.js';
import { MAINTENANCE_STEP as STEP } from './maintenance-steps.js';
import {
  keptReleasesOf,
  type PruneInput,
  pruneContainerCandidates,
  pruneImageCandidates,
  servicesOf,
} from '../observe/prune-candidates.js';
import { plural, secondsText } from './outcome-words.js';

export type PruneDesired = PlanFor<'prune'>['desired'];

interface Skipped {
  id: string;
  name: string;
  why: string;
}

/**
 * Deletes exactly the plan's items and nothing else. Each is looked at again first: one that is gone
 * is skipped; one that no longer qualifies (prune-candidates.ts, judged now with every service Helm
 * keeps records of, in scope or not, so the check can only be stricter than the plan's) is skipped;
 * a container that runs, or an image a container uses, is in use and skipped; each is named with why.
 * Containers go without their volumes (prune_container); an image goes by removing Helm's release
 * tags one by one (prune_image_tag, never forced, untagged parents kept): with the last one Docker
 * deletes it.
 */
export async function pruneHost(
  ctx: ExecContext,
  host: string,
  desired: PruneDesired,
): Promise<ActionOutcome> {
  return atOperationEdge(`prune of ${desired.what} on ${host} failed`, () => prune(ctx, host, desired));
}

async function prune(ctx: ExecContext, host: string, desired: PruneDesired): Promise<ActionOutcome> {
  const started = performance.now();
  const containers = await ctx.docker.listContainers();
  const images = desired.what === 'images' ? await ctx.docker.listImages() : [];
  const everyone = () => true;
  const input: PruneInput = {
    containers,
    images,
    releases: await keptReleasesOf(ctx.releases, servicesOf(containers, everyone)),
    isManaged: everyone,
  };
  const skipped: Skipped[] = [];
  const deleted: Array<{ id: string; name: string }> = [];
  if (desired.what === 'containers') await pruneContainers(ctx, input, desired.items, { skipped, deleted });
  else await pruneImages(ctx, input, desired.items, { skipped, deleted });
  const ms = performance.now() - started;
  const noun = desired.what === 'images' ? 'image' : 'container';
  const skippedText =
    skipped.length > 0
      ? `; skipped ${skipped.length}: ${skipped.map((s) => `${s.name} (${s.why})`).join('; ')}`
      : '';
  const outcome =
    desired.items.length === 0
      ? `nothing to prune on ${host}: no ${noun} Helm made is superseded beyond the kept releases`
      : `pruned ${plural(deleted.length, noun)} on ${host} in ${secondsText(ms)}${deleted.length > 0 ? `: ${deleted.map((d) => d.name).join(', ')}` : ''}${skippedText}`;
  return {
    ok: true,
    outcome,
    data: {
      what: desired.what,
      deleted: deleted.map((d) => ({ id: d.id, name: d.name })),
      skipped,
      ms: Math.round(ms),
    },
  };
}

interface Pruned {
  skipped: Skipped[];
  deleted: Array<{ id: string; name: string }>;
}

/** Each planned container looked at again, then removed without its volumes (prune_container). */
async function pruneContainers(
  ctx: ExecContext,
  input: PruneInput,
  items: readonly string[],
  { skipped, deleted }: Pruned,
): Promise<void> {
  const containers = input.containers;
  const now = new Set(pruneContainerCandidates(input).map((c) => c.id));
  for (const id of items) {
    const c = containers.find((x) => x.id === id);
    if (!c) {
      skipped.push({ id, name: id.slice(0, 12), why: 'already gone' });
      continue;
    }
    if (!now.has(id)) {
      skipped.push({ id, name: c.name, why: 'no longer a kept container of a superseded release' });
      continue;
    }
    if (['running', 'restarting', 'paused'].includes(c.state)) {
      skipped.push({ id, name: c.name, why: `in use: it is ${c.state}` });
      continue;
    }
    await announce(ctx, STEP.pruneContainer, { container: id, name: c.name });
    try {
      await ctx.docker.removeContainer(id, { volumes: false });
      deleted.push({ id, name: c.name });
    } catch (err) {
      rethrowAbort(err);
      skipped.push({ id, name: c.name, why: (err as Error).message });
    }
  }
}

/** Each planned image looked at again, then its release tags removed one by one (prune_image_tag). */
async function pruneImages(
  ctx: ExecContext,
  input: PruneInput,
  items: readonly string[],
  { skipped, deleted }: Pruned,
): Promise<void> {
  const { containers, images } = input;
  const now = new Map(pruneImageCandidates(input).map((c) => [c.id, c]));
  for (const id of items) {
    const img = images.find((x) => x.id === id);
    if (!img) {
      skipped.push({ id, name: short(id), why: 'already gone' });
      continue;
    }
    const name = `${short(id)} (${img.repoTags.join(', ')})`;
    if (!now.has(id)) {
      skipped.push({
        id,
        name,
        why: 'no longer tagged only by superseded releases of Helm (a kept release or another tag names it now)',
      });
      continue;
    }
    const users = usersOf(containers, id);
    if (users.length > 0) {
      skipped.push({ id, name, why: `in use by ${users.join(', ')}` });
      continue;
    }
    try {
      for (const tag of img.repoTags) {
        await announce(ctx, STEP.pruneImageTag, { image: id, tag });
        await ctx.docker.removeImage(tag);
      }
      if (await ctx.docker.findImage(id))
        skipped.push({ id, name, why: 'its release tags were removed, but Docker kept the image' });
      else deleted.push({ id, name });
    } catch (err) {
      rethrowAbort(err);
      skipped.push({ id, name, why: (err as Error).message });
    }
  }
}

function usersOf(containers: readonly ContainerSummary[], imageId: string): string[] {
  return containers.filter((c) => c.imageId === imageId).map((c) => c.name);
}

function short(id: string): string {
  return id.startsWith('sha256:') ? `${id.slice(0, 19)}…` : id.slice(0, 12);
}

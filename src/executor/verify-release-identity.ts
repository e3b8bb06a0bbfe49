import type { ContainerInspect } from '../docker/docker-objects.js';
import type { ContainerSummary } from '../docker/docker-ports.js';
import { LABEL } from '../docker/labels.js';
import type { ResolvedService } from '../docker/target-resolution.js';
import { COMPOSE_LABEL } from './compose/compose-project.js';
import { envName } from './env-change.js';
import type { ExecContext } from './exec-context.js';
import { HELM_LABEL } from '../docker/helm-labels.js';
import { isKeptContainer } from '../docker/kept-containers.js';
import { shortImageId } from './release-bookkeeping.js';
import type { ReleaseRecord } from '../releases/release-store.js';

/**
 * The check every operation that changes a release (deploy, rollback, set_env; plain and compose)
 * makes before it reports executed: after the change, the containers that carry the service's
 * identity run the new release, read back from Docker, never taken from what Helm meant to do. What
 * Helm health-checked must be the service (a container compose made beside it under another name is
 * not), and no container of the service may be left on another release. A problem fails the change
 * and the operation rolls it back like any failed release.
 *
 * `decideReleaseIdentity` is the decision (pure); `verifyReleaseIdentity` reads Docker for it.
 */

/** What says a container is the service: how the request's target was resolved. */
export interface ServiceIdentity {
  service: string;
  via: ResolvedService['via'];
  composeProject: string | null;
}

export function identityOf(
  service: Pick<ResolvedService, 'name' | 'via' | 'composeProject'>,
): ServiceIdentity {
  return { service: service.name, via: service.via, composeProject: service.composeProject };
}

/** "ghost.service=web", "compose service web of project stack", "the name web". */
export function identityWords(id: ServiceIdentity): string {
  if (id.via === 'ghost.service') return `${LABEL.service}=${id.service}`;
  if (id.via === 'compose')
    return `compose service ${id.service} of project ${id.composeProject ?? '(none)'}`;
  return `the name ${id.service}`;
}

/**
 * Whether a container carries the identity. Kept earlier releases (stopped, renamed) and compose
 * one-off containers (`compose run`) are not the service.
 */
export function carriesIdentity(c: Pick<ContainerSummary, 'name' | 'labels'>, id: ServiceIdentity): boolean {
  if (isKeptContainer(c) || c.labels[COMPOSE_LABEL.oneoff] === 'True') return false;
  if (id.via === 'ghost.service') return c.labels[LABEL.service] === id.service;
  if (id.via === 'compose')
    return (
      c.labels[LABEL.composeService] === id.service && c.labels[LABEL.composeProject] === id.composeProject
    );
  return c.name === id.service;
}

/** What the change was meant to leave running. */
export interface ExpectedRelease {
  release: string;
  imageId: string;
  /**
   * set_env: the value each named variable must have in the containers (null: not set at all).
   * Values are compared, never written into the answer: it names variables only.
   */
  env?: Readonly<Record<string, string | null>>;
  /**
   * Undoing a failed change: `release` ran before, and its containers may predate Helm's labels, so
   * a container on its image without a `helm.release` label counts as it.
   */
  restoring?: boolean;
}

/** A container as Docker shows it after the change. */
export interface ObservedContainer {
  id: string;
  name: string;
  imageId: string;
  /** Docker's state word (running, exited, restarting, …). */
  state: string;
  /** Its `helm.release` label, or null. */
  release: string | null;
  /** Config.Env: the image's variables merged with the container's own. */
  env: readonly string[];
}

export interface IdentityInput {
  identity: string;
  expected: ExpectedRelease;
  /** The containers the operation started and health-checked for the new release. */
  made: readonly ObservedContainer[];
  /** Every container that carries the identity now. */
  carriers: readonly ObservedContainer[];
}

export type IdentityDecision = { ok: true } | { ok: false; problem: string };

const MAX_PROBLEMS = 6;

export function decideReleaseIdentity(input: IdentityInput): IdentityDecision {
  const { identity, expected } = input;
  const carrierIds = new Set(input.carriers.map((c) => c.id));
  const madeIds = new Set(input.made.map((c) => c.id));
  const problems: string[] = [];
  for (const m of input.made)
    if (!carrierIds.has(m.id))
      problems.push(
        `${m.name}, which Helm started and health-checked, does not carry ${identity} (it is not the service)`,
      );
  if (input.carriers.length === 0) problems.push(`no container carries ${identity}`);
  for (const c of input.carriers) {
    const words = containerProblems(c, expected, madeIds.has(c.id));
    if (words.length > 0) problems.push(`${c.name} ${words.join(', ')}`);
  }
  if (problems.length === 0) return { ok: true };
  const shown = problems.slice(0, MAX_PROBLEMS);
  const more = problems.length - shown.length;
  return {
    ok: false,
    problem: `after the change, Docker does not show ${identity} running ${expected.release}: ${shown.join('; ')}${more > 0 ? `; and ${more} more` : ''}`,
  };
}

function containerProblems(c: ObservedContainer, expected: ExpectedRelease, made: boolean): string[] {
  const out: string[] = [];
  if (c.state !== 'running') out.push(`is ${c.state}, not running`);
  if (c.imageId !== expected.imageId)
    out.push(
      `runs image ${shortImageId(c.imageId)}${c.release ? ` (release ${c.release})` : ''}, not ${expected.release}'s ${shortImageId(expected.imageId)}`,
    );
  else if (c.release !== null && c.release !== expected.release)
    out.push(`is labelled release ${c.release}, not ${expected.release}`);
  else if (c.release === null && !made && !expected.restoring)
    // Same image, no release label, not made by this change: an instance Helm did not start.
    out.push(`carries no ${HELM_LABEL.release} label and was not started by this change`);
  for (const [name, want] of Object.entries(expected.env ?? {})) {
    const have = effectiveValue(c.env, name);
    if (want === null && have !== null) out.push(`still sets ${name}`);
    else if (want !== null && have === null) out.push(`does not set ${name}`);
    else if (want !== null && have !== want) out.push(`has ${name} other than asked`);
  }
  return out;
}

/** The value a process sees for `name` (Docker's merge: the last entry wins); null when unset. */
function effectiveValue(env: readonly string[], name: string): string | null {
  let value: string | null = null;
  for (const e of env) if (envName(e) === name) value = e.includes('=') ? e.slice(e.indexOf('=') + 1) : null;
  return value;
}

function observed(info: ContainerInspect): ObservedContainer {
  return {
    id: info.Id,
    name: info.Name.replace(/^\//, ''),
    imageId: info.Image,
    state: info.State.Status,
    release: info.Config.Labels?.[HELM_LABEL.release] ?? null,
    env: info.Config.Env ?? [],
  };
}

/**
 * Reads the service's containers back from Docker and decides (decideReleaseIdentity).
 * @returns the problem in words, or null when Docker shows the new release as asked
 */
export async function verifyReleaseIdentity(
  ctx: Pick<ExecContext, 'docker'>,
  identity: ServiceIdentity,
  expected: ExpectedRelease,
  madeIds: readonly string[],
): Promise<string | null> {
  const words = identityWords(identity);
  try {
    const carriers = (await ctx.docker.listContainers()).filter((c) => carriesIdentity(c, identity));
    const ids = [...new Set([...carriers.map((c) => c.id), ...madeIds])];
    const infos = new Map(
      await Promise.all(
        ids.map(async (id) => [id, observed(await ctx.docker.inspectContainer(id))] as const),
      ),
    );
    const decision = decideReleaseIdentity({
      identity: words,
      expected,
      made: madeIds.map((id) => infos.get(id)!),
      carriers: carriers.map((c) => infos.get(c.id)!),
    });
    return decision.ok ? null : decision.problem;
  } catch (err) {
    return `Helm could not read ${words} back from Docker after the change, so it cannot tell that ${expected.release} runs: ${(err as Error).message}`;
  }
}

/** For switchReplicas: the same check on the replicas it started (or, undoing, restored). */
export function releaseVerifier(
  ctx: Pick<ExecContext, 'docker'>,
  service: Pick<ResolvedService, 'name' | 'via' | 'composeProject'>,
  expected: ExpectedRelease,
): (started: ReadonlyArray<{ id: string }>) => Promise<string | null> {
  return (started) =>
    verifyReleaseIdentity(
      ctx,
      identityOf(service),
      expected,
      started.map((r) => r.id),
    );
}

/**
 * For switchReplicas' undo: the same check on the replaced replicas, back on the release that ran
 * before. None before (a first release): nothing to check.
 */
export function restoredVerifier(
  ctx: Pick<ExecContext, 'docker'>,
  service: Pick<ResolvedService, 'name' | 'via' | 'composeProject'>,
  previous: Pick<ReleaseRecord, 'id' | 'image_id'> | null,
): ReturnType<typeof releaseVerifier> | undefined {
  return previous
    ? releaseVerifier(ctx, service, { release: previous.id, imageId: previous.image_id, restoring: true })
    : undefined;
}

import { HELM_LABEL } from '../docker/helm-labels.js';
import { isManaged } from '../docker/scope.js';
import type { ContainerSummary } from '../docker/docker-ports.js';
import { factsOf, observedOf, serviceOf } from './container-facts.js';
import { reconcileInputs } from './reconcile.js';
import type { WatcherCore } from './watcher-types.js';

/**
 * Lists the managed containers and feeds the differences in as the events that were missed (state,
 * StartedAt, FinishedAt, RestartCount against what the watcher knew); a container gone meanwhile is
 * destroyed. `first`: the watcher's first reconcile, which logs what it watches.
 */
export async function reconcile(core: WatcherCore, blindSince: number | null, first: boolean): Promise<void> {
  const { deps } = core;
  const listed = (await deps.docker.listContainers()).filter((c) => isManaged(c.labels, deps.scope));
  const seen = new Set(listed.map((c) => c.id));
  const jobs: Promise<void>[] = [];
  for (const c of listed) jobs.push(core.enqueue(c.id, () => reconcileOne(core, c, blindSince)));
  for (const [id] of core.tracked) {
    if (seen.has(id)) continue;
    jobs.push(
      core.enqueue(id, async () => {
        const t = core.tracked.get(id);
        if (t) await core.apply(id, t, { type: 'event', action: 'destroy', at: core.now(), intended: false });
      }),
    );
  }
  await Promise.all(jobs);
  if (first) {
    await core.log({
      event: 'monitor_started',
      message: `watching ${listed.length} managed containers through Docker's events stream (${[...core.tracked.values()].filter((t) => t.state.phase !== 'stopped').length} running)`,
    });
  }
}

/** One listed container: what Docker shows now against what the watcher knew, logged when it differs. */
async function reconcileOne(
  core: WatcherCore,
  c: ContainerSummary,
  blindSince: number | null,
): Promise<void> {
  const { deps } = core;
  const info = await core.inspect(c.id);
  if (!info) return;
  const observed = observedOf(info);
  let t = core.tracked.get(c.id);
  const known = t
    ? { phase: t.state.phase, lastStartedAt: t.lastStartedAt, restartCount: t.facts.restartCount }
    : undefined;
  t ??= await core.track(c.id, info, 'stopped');
  const service = serviceOf(c.labels, c.name);
  const inputs = reconcileInputs(known, observed, {
    now: core.now(),
    intended: await deps.isIntended(c.id, service, c.labels[HELM_LABEL.op] ?? null),
    blindSince,
  });
  if (inputs.length > 0 && known) {
    await core.log({
      target: service,
      environment: t.facts.environment,
      event: 'monitor_reconciled',
      message: `${t.facts.name}: was ${known.phase}, Docker now says ${observed.running ? 'running' : `exited (code ${observed.exitCode})`}, started ${observed.startedAt ? new Date(observed.startedAt).toISOString() : 'never'}, restart count ${known.restartCount} → ${observed.restartCount}`,
    });
  }
  if (observed.startedAt !== t.lastStartedAt) {
    t.facts = await factsOf(info, deps.docker, deps.classification);
  }
  for (const input of inputs) await core.apply(c.id, t, input);
  t.lastStartedAt = observed.startedAt;
  t.facts = { ...t.facts, restartCount: observed.restartCount };
}

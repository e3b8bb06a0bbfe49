import type { ContainerEvent } from '../docker/docker-ports.js';
import { HELM_LABEL } from '../docker/helm-labels.js';
import { isManaged } from '../docker/scope.js';
import { factsOf, observedOf } from './container-facts.js';
import type { MonitorInput } from './container-state.js';
import type { HealthReport, WatcherCore } from './watcher-types.js';

/** Events that may be Helm's own doing (asked of isIntended); the others are never. */
const INTENDED_ACTIONS = new Set(['kill', 'die', 'stop', 'destroy', 'health_status']);
/** Events that move a container's state; the rest of Docker's are ignored. */
const STATE_ACTIONS = new Set(['start', 'restart', 'kill', 'oom', 'die', 'stop', 'destroy', 'health_status']);

/** A Docker event of a managed container, queued behind that container's earlier work. */
export function onContainerEvent(core: WatcherCore, e: ContainerEvent): void {
  if (core.closed() || !STATE_ACTIONS.has(e.action) || !isManaged(e.attributes, core.deps.scope)) return;
  void core.enqueue(e.id, () => handleEvent(core, e));
}

/** An event → facts brought up to date → Helm's own or not → the state machine. */
async function handleEvent(core: WatcherCore, e: ContainerEvent): Promise<void> {
  const { deps } = core;
  let t = core.tracked.get(e.id);
  if (!t) {
    if (e.action === 'destroy') return;
    const info = await core.inspect(e.id);
    if (!info) return;
    // First seen through this event: it ran before it could die, be killed or report health.
    t = await core.track(e.id, info, e.action === 'start' ? 'stopped' : 'running');
  } else if (e.action === 'start') {
    const info = await core.inspect(e.id).catch(() => null);
    if (info) {
      t.facts = await factsOf(info, deps.docker, deps.classification);
      t.lastStartedAt = observedOf(info).startedAt;
    }
  }
  if (e.action === 'health_status') t.ping = null;
  if (e.action === 'kill') t.signal = e.attributes['signal'] ?? null;
  if (e.action === 'start') t.signal = null;
  const intended = INTENDED_ACTIONS.has(e.action)
    ? await deps.isIntended(e.id, t.facts.service, e.attributes[HELM_LABEL.op] ?? null)
    : false;
  const exit = e.attributes['exitCode'];
  await core.apply(e.id, t, {
    type: 'event',
    action: e.action as Extract<MonitorInput, { type: 'event' }>['action'],
    at: e.at,
    intended,
    exitCode: exit !== undefined && /^\d+$/.test(exit) ? Number(exit) : null,
    signal: e.attributes['signal'] ?? null,
    health: e.health,
  });
}

/** A health ping's verdict, fed to the state machine as Docker's health_status would be. */
export function onHealthReport(core: WatcherCore, id: string, report: HealthReport): Promise<void> {
  if (core.closed()) return Promise.resolve();
  return core.enqueue(id, async () => {
    const t = core.tracked.get(id);
    if (!t || core.closed()) return;
    t.ping = report.healthy ? null : { check: report.check, detail: report.detail };
    const intended = await core.deps.isIntended(id, t.facts.service, report.op);
    await core.apply(id, t, {
      type: 'event',
      action: 'health_status',
      at: report.at,
      intended,
      health: report.healthy ? 'healthy' : 'unhealthy',
    });
  });
}

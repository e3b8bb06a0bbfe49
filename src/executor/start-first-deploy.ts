import type { ResolvedService } from '../docker/target-resolution.js';
import { allocateInstancePort } from '../proxy/instance-port.js';
import { instancePortOf } from '../proxy/route-reconcile.js';
import type { RoutedService } from '../proxy/route-labels.js';
import { makeThroughProxy } from '../proxy/through-proxy.js';
import type { ReleaseRecord } from '../releases/release-store.js';
import type { ExecContext, ExecMeta } from './exec-context.js';
import { NOTHING_CHANGED } from './operation-prelude.js';
import { writeServiceRollbackDoc } from './release-bookkeeping.js';
import type { ReleaseOutcome } from './release-outcome.js';
import { saveAdopted, type SwitchedRelease } from './release-skeleton.js';
import type { ReplicaStep } from './replica-switch.js';
import { type StartFirstInstance, startFirstSwitch } from './start-first-switch.js';
import { type ExpectedRelease, releaseVerifier } from './verify-release-identity.js';

/**
 * A deploy's replica steps run start-first behind the front proxy (issue 11, contract 1.6): each
 * replaced replica gets a new instance on a free port of the instance range, and start-first-switch.ts
 * switches the route. The answer is deploy.ts's, in the same shapes as switchRelease's:
 *  - a new instance that fails before the switch: removed, the old ones served throughout:
 *    health_check_failed (alert deploy_failed);
 *  - a failure after the switch: switched back at once, the new ones removed: rolled_back;
 *  - the route or the new ones not restored: rollback_failed.
 */
export interface StartFirstDeploy {
  steps: readonly ReplicaStep[];
  routed: RoutedService;
  adopted: ReleaseRecord | null;
  expected: ExpectedRelease;
  /** The release that runs now (kept after the switch, served again after a failure). */
  previous: ReleaseRecord | null;
  /** "deploy of shop/web:2 (sha256:ab…) to web as r3" */
  what: string;
}

export async function runStartFirstDeploy(
  ctx: ExecContext,
  service: ResolvedService,
  meta: ExecMeta,
  d: StartFirstDeploy,
): Promise<
  { ok: true; switched: SwitchedRelease; upstreams: number[] } | { ok: false; outcome: ReleaseOutcome }
> {
  const proxy = ctx.proxy;
  if (!proxy)
    return refused(
      `${d.what}: this executor has no front proxy configured (HELM_PROXY_ADMIN); ${NOTHING_CHANGED}`,
    );
  const instances: StartFirstInstance[] = [];
  const taken = new Set<number>();
  for (const step of d.steps) {
    const old = step.old;
    const next = step.next;
    const oldPort = old ? instancePortOf(old, d.routed) : null;
    if (!old || !step.oldKeptName || next?.kind !== 'create' || oldPort === null)
      return refused(
        `${d.what}: Helm cannot tell which port ${step.name} serves on (its ${d.routed.instancePort.kind === 'env' ? `${d.routed.instancePort.name} variable` : 'published port'}), so it cannot switch from it; ${NOTHING_CHANGED}`,
      );
    taken.add(oldPort);
    instances.push({
      name: step.name,
      old,
      oldPort,
      oldKeptName: step.oldKeptName,
      options: next.options,
      port: 0,
    });
  }
  for (const instance of instances) {
    instance.port = await allocateInstancePort(service.name, proxy.portRange, taken);
    taken.add(instance.port);
  }
  await saveAdopted(ctx, d.adopted);
  const result = await startFirstSwitch(
    ctx,
    { service: service.name, routed: d.routed, expectImageId: d.expected.imageId, replicas: instances },
    { proxy: proxy.port, drainMs: proxy.drainMs, throughProxy: makeThroughProxy(d.routed, proxy.bindHost) },
  );
  if (result.ok) {
    const replicas = result.ids.map((id, i) => ({
      name: instances[i]!.name,
      id,
      check: 'start-first',
      detail: `healthy on port ${result.ports[i]}, serving through the proxy`,
    }));
    const wrong = await releaseVerifier(ctx, service, d.expected)(replicas);
    if (wrong) return { ok: false, outcome: { ok: false, code: 'internal', message: `${d.what}: ${wrong}` } };
    return {
      ok: true,
      switched: { ok: true, replicas, ms: result.ms, stops: result.stops },
      upstreams: result.ports,
    };
  }
  const previous = d.previous?.id ?? 'the previous release';
  if (d.previous && result.stage === 'after_switch')
    await writeServiceRollbackDoc(
      ctx,
      service.name,
      meta.environment,
      `failed start-first ${d.what}`,
      d.previous,
      null,
    );
  const code = !result.restored
    ? 'rollback_failed'
    : result.stage === 'before_switch'
      ? 'health_check_failed'
      : 'rolled_back';
  const words = !result.restored
    ? `Restoring ${previous} behind the proxy failed: check the route helm-${service.name} and the containers ${instances.map((i) => `${i.name}-i${i.port}`).join(', ')}.`
    : result.stage === 'before_switch'
      ? `The new instances were removed before any traffic reached them; ${previous} served throughout and still does.`
      : `Switched back: ${previous} serves again through the proxy and the new instances were removed.`;
  return {
    ok: false,
    outcome: {
      ok: false,
      code,
      message: ctx.redactor.redact(
        `${d.what} failed ${result.stage === 'before_switch' ? 'before' : 'after'} the switch: ${result.failure}. ${words}`,
      ),
      data: {
        strategy: 'start-first',
        stage: result.stage,
        failed_release: d.expected.release,
        restored_release: result.restored ? (d.previous?.id ?? null) : null,
        reason: ctx.redactor.redact(result.failure),
        instance_ports: instances.map((i) => i.port),
        ms: result.ms,
      },
    },
  };
}

function refused(message: string): { ok: false; outcome: ReleaseOutcome } {
  return { ok: false, outcome: { ok: false, code: 'not_supported', message } };
}

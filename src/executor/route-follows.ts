import { routingOf } from '../plan/deploy-strategy.js';
import { describeUpstreams, upstream } from '../proxy/proxy-port.js';
import { instancePortOf } from '../proxy/route-reconcile.js';
import type { ExecContext } from './exec-context.js';
import { changeStep } from './step-log.js';

/**
 * After an operation that recreated a routed service's containers in place (a rollback: the kept
 * containers come back on the ports they had, which a start-first deploy since then left), the
 * proxy's route is pointed at the containers that run now, in one announced change (issue 11,
 * contract 1.6 decision 89). Nothing to do for a service that is not routed, when this executor has
 * no proxy, when the proxy has no route of Helm's for it, or when the route already points there.
 * Returns what changed ("127.0.0.1:20001"), or null; throws when the proxy refused.
 */
export async function routeFollows(
  ctx: ExecContext,
  service: string,
  containerIds: readonly string[],
): Promise<string | null> {
  if (!ctx.proxy || containerIds.length === 0) return null;
  const infos = await Promise.all(containerIds.map((id) => ctx.docker.inspectContainer(id)));
  const routing = routingOf(infos.map((i) => i.Config.Labels ?? {}));
  if (routing.kind !== 'routed') return null;
  const ports = infos.map((i) => instancePortOf(i, routing.routed));
  if (ports.some((p) => p === null)) return null;
  const wanted = (ports as number[]).map(upstream);
  const route = await ctx.proxy.port.readRoute(service);
  if (!route || describeUpstreams(route.upstreams) === describeUpstreams(wanted)) return null;
  const to = describeUpstreams(wanted);
  await changeStep(ctx, 'switch_upstream', { service, from: describeUpstreams(route.upstreams), to }, () =>
    ctx.proxy!.port.replaceUpstreams(service, wanted),
  );
  return to;
}

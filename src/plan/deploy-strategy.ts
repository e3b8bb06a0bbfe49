// How a deploy replaces a service's containers (issue 11, contract 1.6), decided as data from the
// labels its running containers carry: a routed service (ghost.route.port / ghost.route.host) is
// deployed start-first behind the front proxy by default; any other service is recreated. The gate
// asks this before Warden is asked (observe/cannot-do.ts), the plan writes the default in
// (desired-state.ts), and the executor asks again before its first change.
import type { DeployStrategy } from '../contracts/action-params.js';
import { parseRouteLabels, ROUTE_LABEL, type RoutedService } from '../proxy/route-labels.js';

export type ServiceRouting =
  | { kind: 'unrouted' }
  | { kind: 'routed'; routed: RoutedService }
  /** Route labels that are wrong, or replicas that disagree: nothing start-first can rely on. */
  | { kind: 'invalid'; problems: string[] };

/** The routing the service's running containers declare (each one's labels); every replica must agree. */
export function routingOf(labelSets: ReadonlyArray<Readonly<Record<string, string>>>): ServiceRouting {
  const parsed = labelSets.map((labels) => parseRouteLabels(labels));
  const problems = parsed.flatMap((p) => (p.ok ? [] : p.problems));
  if (problems.length > 0) return { kind: 'invalid', problems: [...new Set(problems)] };
  const routed = parsed.flatMap((p) => (p.ok && p.routed ? [p.routed] : []));
  if (routed.length === 0) return { kind: 'unrouted' };
  const first = routed[0]!;
  const same = (r: RoutedService) =>
    JSON.stringify([r.route, r.instancePort, r.zeroDowntime]) ===
    JSON.stringify([first.route, first.instancePort, first.zeroDowntime]);
  if (routed.length !== parsed.length || !routed.every(same))
    return { kind: 'invalid', problems: ['its replicas do not carry the same route labels'] };
  return { kind: 'routed', routed: first };
}

/** The strategy a deploy uses: the request's, else start-first for a routed service, else recreate. */
export function strategyFor(requested: DeployStrategy | undefined, routing: ServiceRouting): DeployStrategy {
  return requested ?? (routing.kind === 'routed' ? 'start-first' : 'recreate');
}

/**
 * Why `service` cannot be deployed with `strategy`; null when it can. Plain words, ending "Nothing was
 * changed."; the same for the gate (before Warden is asked) and the executor (its backstop).
 */
export function strategyRefusal(
  service: string,
  strategy: DeployStrategy,
  routing: ServiceRouting,
  composeProject: string | null,
): string | null {
  const nothing = 'Nothing was changed.';
  if (routing.kind === 'invalid')
    return `${service} declares a route for the front proxy, but its labels are wrong: ${routing.problems.join('; ')}. Fix the labels and deploy again. ${nothing}`;
  if (strategy === 'recreate') {
    if (routing.kind === 'routed' && routing.routed.zeroDowntime)
      return `${service} is labelled ${ROUTE_LABEL.zeroDowntime}=true, and a recreate deploy stops the old instance before the new one serves, so requests would fail meanwhile. Deploy it with strategy "start-first" (the default for a routed service), or remove the label. ${nothing}`;
    return null;
  }
  if (composeProject)
    return `start-first is not available for ${service}, a service of compose project ${composeProject}: compose starts and names its own containers, so Helm cannot run a second instance of it on a port of its own yet. Use strategy "recreate". ${nothing}`;
  if (routing.kind === 'unrouted')
    return `start-first needs the front proxy to switch traffic from the old instances to the new ones, and ${service} is not routed through it (no ${ROUTE_LABEL.port} or ${ROUTE_LABEL.host} label on a running container; a service with no container yet is never routed). Label it (with ${ROUTE_LABEL.portEnv} or ${ROUTE_LABEL.containerPort}) or use strategy "recreate". ${nothing}`;
  return null;
}

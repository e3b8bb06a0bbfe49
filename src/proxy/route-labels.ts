/**
 * A routed service, as its container labels declare it (issue 11), parsed and checked as data. The
 * labels:
 *   ghost.route.port=8080         the port the proxy listens on for the service, or
 *   ghost.route.host=shop.example the host name the proxy serves it under (on the owner's server)
 *   ghost.port.env=PORT           the env var the app reads its port from (host networking), or
 *   ghost.port.container=80       the container port, published to the instance's host port
 *   ghost.healthcheck=http://127.0.0.1:{port}/health   probed on each instance's own port
 *   ghost.zero-downtime=true      a recreate deploy (old stops before new serves) is refused
 * A container with none of the route labels is not routed (null); one with some but not a valid
 * set is an error that names every problem.
 */

export const ROUTE_LABEL = {
  port: 'ghost.route.port',
  host: 'ghost.route.host',
  portEnv: 'ghost.port.env',
  containerPort: 'ghost.port.container',
  healthcheck: 'ghost.healthcheck',
  /**
   * Written by Helm on each instance it starts: the healthcheck as the owner wrote it (with `{port}`),
   * while `ghost.healthcheck` on that instance holds it rendered for the instance's own port.
   */
  healthcheckTemplate: 'ghost.healthcheck.template',
  /** Written by Helm on each instance it starts: the instance's own host port. */
  instancePort: 'ghost.instance-port',
  zeroDowntime: 'ghost.zero-downtime',
} as const;

export const PORT_PLACEHOLDER = '{port}';

export interface RoutedService {
  /** Where the proxy serves it. */
  route: { kind: 'port'; port: number } | { kind: 'host'; host: string };
  /** How an instance gets its own port. */
  instancePort: { kind: 'env'; name: string } | { kind: 'container'; port: number };
  /** The healthcheck with `{port}` in it, or null (the caller probes tcp on the instance port). */
  healthcheck: string | null;
  zeroDowntime: boolean;
}

export type RouteLabelsResult =
  | { ok: true; routed: RoutedService | null }
  | { ok: false; problems: string[] };

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// RFC 1123 host names, lower case, at least one dot or "localhost"-like single label.
const HOST_NAME =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

function portOf(label: string, value: string, problems: string[]): number | null {
  if (!/^\d{1,5}$/.test(value) || Number(value) < 1 || Number(value) > 65535) {
    problems.push(`label ${label}="${value.slice(0, 40)}" is not a port (1-65535)`);
    return null;
  }
  return Number(value);
}

/**
 * Which of two exclusive labels is set: the first, the second, or neither (undefined); both is a
 * problem (null).
 */
function oneOf(
  labels: Readonly<Record<string, string>>,
  first: string,
  second: string,
  problems: string[],
): { which: 'first' | 'second'; value: string } | null | undefined {
  const a = labels[first];
  const b = labels[second];
  if (a !== undefined && b !== undefined) {
    problems.push(`set one of ${first} and ${second}, not both`);
    return null;
  }
  if (a !== undefined) return { which: 'first', value: a };
  if (b !== undefined) return { which: 'second', value: b };
  return undefined;
}

function parseRoute(
  labels: Readonly<Record<string, string>>,
  problems: string[],
): RoutedService['route'] | null {
  const set = oneOf(labels, ROUTE_LABEL.port, ROUTE_LABEL.host, problems);
  if (!set) return null;
  if (set.which === 'first') {
    const n = portOf(ROUTE_LABEL.port, set.value, problems);
    return n === null ? null : { kind: 'port', port: n };
  }
  if (HOST_NAME.test(set.value)) return { kind: 'host', host: set.value };
  problems.push(
    `label ${ROUTE_LABEL.host}="${set.value.slice(0, 80)}" is not a host name (lower case, e.g. shop.example.com)`,
  );
  return null;
}

function parseInstancePort(
  labels: Readonly<Record<string, string>>,
  problems: string[],
): RoutedService['instancePort'] | null {
  const set = oneOf(labels, ROUTE_LABEL.portEnv, ROUTE_LABEL.containerPort, problems);
  if (set === null) return null;
  if (set === undefined) {
    problems.push(
      `a routed service needs ${ROUTE_LABEL.portEnv} (the env var its app reads its port from) or ${ROUTE_LABEL.containerPort} (the port to publish)`,
    );
    return null;
  }
  if (set.which === 'second') {
    const n = portOf(ROUTE_LABEL.containerPort, set.value, problems);
    return n === null ? null : { kind: 'container', port: n };
  }
  if (ENV_NAME.test(set.value)) return { kind: 'env', name: set.value };
  problems.push(
    `label ${ROUTE_LABEL.portEnv}="${set.value.slice(0, 40)}" is not an environment variable name`,
  );
  return null;
}

/** The healthcheck as written by the owner: the template Helm kept, else the label itself. */
function healthcheckTemplate(labels: Readonly<Record<string, string>>, problems: string[]): string | null {
  const template = labels[ROUTE_LABEL.healthcheckTemplate] ?? labels[ROUTE_LABEL.healthcheck];
  if (template === undefined) return null;
  if (!template.includes(PORT_PLACEHOLDER)) {
    problems.push(
      `label ${ROUTE_LABEL.healthcheck}="${template.slice(0, 80)}" of a routed service must use ${PORT_PLACEHOLDER} ` +
        `(each instance is checked on its own port, never through the proxy), e.g. http://127.0.0.1:${PORT_PLACEHOLDER}/health`,
    );
    return null;
  }
  const rendered = renderHealthcheck(template, 1);
  let url: URL | null = null;
  try {
    url = new URL(rendered);
  } catch {
    url = null;
  }
  if (!url || !['http:', 'https:', 'tcp:'].includes(url.protocol)) {
    problems.push(
      `label ${ROUTE_LABEL.healthcheck}="${template.slice(0, 80)}" must be http(s)://… or tcp://host:${PORT_PLACEHOLDER}`,
    );
    return null;
  }
  return template;
}

export function parseRouteLabels(labels: Readonly<Record<string, string>>): RouteLabelsResult {
  const problems: string[] = [];
  const declared = [ROUTE_LABEL.port, ROUTE_LABEL.host].some((l) => labels[l] !== undefined);
  if (!declared) {
    const stray = [ROUTE_LABEL.portEnv, ROUTE_LABEL.containerPort].filter((l) => labels[l] !== undefined);
    if (stray.length > 0)
      return {
        ok: false,
        problems: [`${stray.join(' and ')} without ${ROUTE_LABEL.port} or ${ROUTE_LABEL.host}`],
      };
    return { ok: true, routed: null };
  }
  const route = parseRoute(labels, problems);
  const instancePort = parseInstancePort(labels, problems);
  const healthcheck = healthcheckTemplate(labels, problems);
  const zd = labels[ROUTE_LABEL.zeroDowntime];
  if (zd !== undefined && zd !== 'true' && zd !== 'false')
    problems.push(`label ${ROUTE_LABEL.zeroDowntime}="${zd.slice(0, 20)}" must be true or false`);
  if (problems.length > 0 || !route || !instancePort) return { ok: false, problems };
  return { ok: true, routed: { route, instancePort, healthcheck, zeroDowntime: zd === 'true' } };
}

/** The healthcheck for one instance: `{port}` replaced by its own port. */
export function renderHealthcheck(template: string, port: number): string {
  return template.split(PORT_PLACEHOLDER).join(String(port));
}

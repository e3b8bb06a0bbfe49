import { LABEL } from '../docker/labels.js';

/**
 * How a service's health is judged, in order: the `ghost.healthcheck` label (http(s):// or
 * tcp://host:port), the image's Docker HEALTHCHECK, or "running and not restarting". Pure.
 */
export type HealthCheckSpec =
  | { kind: 'http'; url: string }
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'docker' }
  | { kind: 'running' };

export type SpecResult = { ok: true; spec: HealthCheckSpec } | { ok: false; problem: string };

export function healthCheckSpec(
  labels: Readonly<Record<string, string>>,
  healthcheckTest: ReadonlyArray<string> | undefined,
): SpecResult {
  const label = labels[LABEL.healthcheck];
  if (label !== undefined) return parseHealthLabel(label);
  // Docker's ["NONE"] disables an inherited HEALTHCHECK.
  if (healthcheckTest && healthcheckTest.length > 0 && healthcheckTest[0] !== 'NONE')
    return { ok: true, spec: { kind: 'docker' } };
  return { ok: true, spec: { kind: 'running' } };
}

export function parseHealthLabel(value: string): SpecResult {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { ok: false, problem: `label ${LABEL.healthcheck}="${value.slice(0, 80)}" is not a URL` };
  }
  if (url.protocol === 'http:' || url.protocol === 'https:')
    return { ok: true, spec: { kind: 'http', url: url.href } };
  if (url.protocol === 'tcp:' && url.hostname && url.port) {
    return {
      ok: true,
      spec: { kind: 'tcp', host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port) },
    };
  }
  return {
    ok: false,
    problem: `label ${LABEL.healthcheck}="${value.slice(0, 80)}" must be http(s)://… or tcp://host:port`,
  };
}

export function describeSpec(spec: HealthCheckSpec): string {
  switch (spec.kind) {
    case 'http':
      return `GET ${spec.url}`;
    case 'tcp':
      return `tcp connect ${spec.host}:${spec.port}`;
    case 'docker':
      return "the image's Docker HEALTHCHECK";
    case 'running':
      return 'running and not restarting';
  }
}

import type { Clock } from '../base/clock.js';
import type { ContainerInspect } from '../docker/docker-objects.js';
import { healthLabelsOf } from '../proxy/health-labels.js';
import { describeSpec, healthCheckSpec } from './health-check-spec.js';
import { probeHttp, probeTcp } from './probe.js';

/** What one look at a container says. Integers only, so results hash and compare cleanly. */
export interface ContainerHealth {
  id: string;
  name: string;
  image: string;
  image_id: string;
  state: string;
  running: boolean;
  restarting: boolean;
  /** Docker's own HEALTHCHECK verdict, when the image or container defines one. */
  docker_health: string | null;
  restart_count: number;
  started_at: string | null;
  uptime_s: number | null;
  exit_code: number | null;
  oom_killed: boolean;
  check: string;
  healthy: boolean;
  detail: string;
}

export const PROBE_TIMEOUT_MS = 5_000;

/** Looks once (no stability window): the health_check action and the monitor's pings. */
export async function lookAtContainer(info: ContainerInspect, clock: Clock): Promise<ContainerHealth> {
  const state = info.State;
  const running = state.Running === true && state.Restarting !== true;
  const startedAt =
    running && state.StartedAt && !state.StartedAt.startsWith('0001-') ? state.StartedAt : null;
  const base = {
    id: info.Id.slice(0, 12),
    name: info.Name.replace(/^\//, ''),
    image: info.Config.Image,
    image_id: info.Image,
    state: state.Status,
    running,
    restarting: state.Restarting === true,
    docker_health: state.Health?.Status ?? null,
    restart_count: info.RestartCount ?? 0,
    started_at: startedAt,
    uptime_s: startedAt
      ? Math.max(0, Math.floor((clock.now().getTime() - Date.parse(startedAt)) / 1000))
      : null,
    exit_code: running ? null : (state.ExitCode ?? null),
    oom_killed: state.OOMKilled === true,
  };

  // A routed service's `{port}` rendered with this container's own port (issue 11).
  const chosen = healthCheckSpec(healthLabelsOf(info), info.Config.Healthcheck?.Test);
  if (!chosen.ok) return { ...base, check: 'invalid', healthy: false, detail: chosen.problem };
  const spec = chosen.spec;
  const check = describeSpec(spec);
  if (!running) {
    const why = state.Restarting
      ? 'restarting'
      : `not running (${state.Status}, exit code ${state.ExitCode})`;
    return { ...base, check, healthy: false, detail: why };
  }
  switch (spec.kind) {
    case 'running':
      return { ...base, check, healthy: true, detail: 'running' };
    case 'docker': {
      const status = state.Health?.Status ?? 'unknown';
      return { ...base, check, healthy: status === 'healthy', detail: `Docker health: ${status}` };
    }
    case 'http': {
      const r = await probeHttp(spec.url, PROBE_TIMEOUT_MS);
      return { ...base, check, healthy: r.ok, detail: `${r.detail} in ${r.ms} ms` };
    }
    case 'tcp': {
      const r = await probeTcp(spec.host, spec.port, PROBE_TIMEOUT_MS);
      return { ...base, check, healthy: r.ok, detail: `${r.detail} in ${r.ms} ms` };
    }
  }
}

import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { ContainerCreateOptions, ContainerInspect } from '../docker/docker-objects.js';
import type { Redactor } from '../log/redactor.js';
import type { SecretStore } from '../secrets/secret-store.js';
import { HELM_LABEL } from '../docker/helm-labels.js';

/**
 * A container's configuration as a release record keeps it: enough to create the container again
 * from the release's image, with inline env values but never a secret's value. An env variable
 * whose value comes from the secret store keeps its reference (label helm.env-secrets); one whose
 * value Helm recognises as a secret without a reference is withheld, and such a release can be
 * restored only from its kept container.
 */
export type RecordedEnv =
  | { name: string; value: string }
  | { name: string; secret: string }
  | { name: string; withheld: true };

export interface ContainerConfigRecord {
  cmd: string[] | null;
  entrypoint: string[] | string | null;
  env: RecordedEnv[];
  labels: Record<string, string>;
  working_dir: string;
  user: string;
  healthcheck: Record<string, unknown> | null;
  exposed_ports: string[];
  volumes: string[];
  stop_signal: string | null;
  stop_timeout: number | null;
  tty: boolean;
  open_stdin: boolean;
  /** Docker's HostConfig as inspect shows it (it holds no env values). */
  host_config: Record<string, unknown>;
}

export function captureConfig(info: ContainerInspect, redactor: Redactor): ContainerConfigRecord {
  const cfg = info.Config as ContainerInspect['Config'] & { StopSignal?: string; StopTimeout?: number };
  const refs = secretRefs(cfg.Labels ?? {});
  const env: RecordedEnv[] = (cfg.Env ?? []).map((entry) => {
    const eq = entry.indexOf('=');
    const name = eq >= 0 ? entry.slice(0, eq) : entry;
    const value = eq >= 0 ? entry.slice(eq + 1) : '';
    const ref = refs[name];
    if (ref) return { name, secret: ref };
    if (redactor.redact(value) !== value) return { name, withheld: true };
    return { name, value };
  });
  return {
    cmd: cfg.Cmd ?? null,
    entrypoint: cfg.Entrypoint ?? null,
    env,
    labels: { ...(cfg.Labels ?? {}) },
    working_dir: cfg.WorkingDir ?? '',
    user: cfg.User ?? '',
    healthcheck: (cfg.Healthcheck as Record<string, unknown> | undefined) ?? null,
    exposed_ports: Object.keys(cfg.ExposedPorts ?? {}).sort(),
    volumes: Object.keys(cfg.Volumes ?? {}).sort(),
    stop_signal: cfg.StopSignal ?? null,
    stop_timeout: cfg.StopTimeout ?? null,
    tty: cfg.Tty === true,
    open_stdin: cfg.OpenStdin === true,
    host_config: JSON.parse(JSON.stringify(info.HostConfig ?? {})) as Record<string, unknown>,
  };
}

/** The `helm.env-secrets` label: `{ "ENV_NAME": "secret-name" }`; anything unreadable is no reference. */
export function secretRefs(labels: Readonly<Record<string, string>>): Record<string, string> {
  const raw = labels[HELM_LABEL.envSecrets];
  if (!raw) return {};
  try {
    const parsed = JSON.parse(raw) as unknown;
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return {};
    return Object.fromEntries(
      Object.entries(parsed as Record<string, unknown>).filter(
        (e): e is [string, string] => typeof e[1] === 'string',
      ),
    );
  } catch {
    return {};
  }
}

/** sha256 of the canonical (RFC 8785) form of the replicas' configurations: "did the config change?". */
export function configDigest(configs: readonly ContainerConfigRecord[]): string {
  const text = canonicalize(JSON.parse(JSON.stringify(configs))) ?? '';
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

export class ReleaseNotRestorableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = this.constructor.name;
  }
}

/** Create options that reproduce a recorded container from its release's image (secrets read now). */
export async function createOptionsFromRecord(
  config: ContainerConfigRecord,
  opts: { name: string; imageRef: string; helmLabels: Record<string, string>; secrets?: SecretStore },
): Promise<ContainerCreateOptions> {
  const env: string[] = [];
  for (const e of config.env) {
    if ('value' in e) env.push(`${e.name}=${e.value}`);
    else if ('secret' in e) {
      if (!opts.secrets)
        throw new ReleaseNotRestorableError(
          `env ${e.name} needs secret "${e.secret}" and Helm has no secret store`,
        );
      env.push(`${e.name}=${await opts.secrets.read(e.secret)}`);
    } else {
      throw new ReleaseNotRestorableError(
        `the value of env ${e.name} was withheld from the record (it is a secret without a reference)`,
      );
    }
  }
  const labels = { ...config.labels };
  for (const key of [HELM_LABEL.op, HELM_LABEL.release, HELM_LABEL.previous]) delete labels[key];
  return {
    name: opts.name,
    Image: opts.imageRef,
    Env: env,
    Labels: { ...labels, ...opts.helmLabels },
    ...(config.cmd ? { Cmd: config.cmd } : {}),
    ...(config.entrypoint ? { Entrypoint: config.entrypoint } : {}),
    ...(config.working_dir ? { WorkingDir: config.working_dir } : {}),
    ...(config.user ? { User: config.user } : {}),
    ...(config.healthcheck ? { Healthcheck: config.healthcheck } : {}),
    ...(config.stop_signal ? { StopSignal: config.stop_signal } : {}),
    ...(config.stop_timeout !== null ? { StopTimeout: config.stop_timeout } : {}),
    ...(config.exposed_ports.length > 0
      ? { ExposedPorts: Object.fromEntries(config.exposed_ports.map((p) => [p, {}])) }
      : {}),
    ...(config.volumes.length > 0 ? { Volumes: Object.fromEntries(config.volumes.map((v) => [v, {}])) } : {}),
    Tty: config.tty,
    OpenStdin: config.open_stdin,
    HostConfig: config.host_config as ContainerCreateOptions['HostConfig'],
  };
}

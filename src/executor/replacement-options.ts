import type { ContainerCreateOptions, ContainerInspect, ImageInspect } from '../docker/docker-objects.js';
import { isIdentityLabel } from '../docker/helm-labels.js';

/**
 * The create options for a container that replaces `old` with a new image (pure).
 *
 * Watchtower's subtraction: whatever the old container has that equals its old image's default
 * (env entries, cmd, entrypoint, healthcheck, labels, exposed ports, volumes, workdir, user, stop
 * signal) was not set by the container, so it is left out and the new image's default applies;
 * what the container set itself is kept, as is its whole HostConfig (name, mounts, ports, restart
 * policy, network mode, resources). Identity labels (`ghost.*` but `ghost.healthcheck`) are written
 * explicitly from the old container's effective values, so an image's LABEL cannot change them.
 * Anonymous volumes of the old container are mounted by name, so their data carries over.
 */
export type RecreateResult = { ok: true; options: ContainerCreateOptions } | { ok: false; problem: string };

export interface RecreateInput {
  old: ContainerInspect;
  /** The old container's image (by id); null when the engine no longer has it (then nothing is subtracted). */
  oldImage: ImageInspect | null;
  newImage: ImageInspect;
  /** What the new container's Config.Image says (a reference that resolves to newImage). */
  imageRef: string;
  name: string;
  helmLabels: Record<string, string>;
}

type ImageConfig = Partial<ImageInspect['Config']> & { Healthcheck?: unknown; StopSignal?: string };

export function recreateOptions(input: RecreateInput): RecreateResult {
  const { old, imageRef, name, helmLabels } = input;
  const cfg = old.Config as ContainerInspect['Config'] & { StopSignal?: string; StopTimeout?: number };
  const img: ImageConfig = (input.oldImage?.Config ?? {}) as ImageConfig;
  const newImg: ImageConfig = (input.newImage.Config ?? {}) as ImageConfig;

  const effectiveLabels = cfg.Labels ?? {};
  const identity = Object.fromEntries(Object.entries(effectiveLabels).filter(([k]) => isIdentityLabel(k)));
  const introduced = Object.entries(newImg.Labels ?? {}).filter(
    ([k]) => isIdentityLabel(k) && !(k in identity),
  );
  if (introduced.length > 0) {
    const [k, v] = introduced[0]!;
    return {
      ok: false,
      problem: `the new image sets label ${k}=${v}, which ${name} does not have: an image may not give a service its identity labels`,
    };
  }

  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(effectiveLabels)) if (img.Labels?.[k] !== v) labels[k] = v;
  Object.assign(labels, identity, helmLabels);

  const imageEnv = new Set(img.Env ?? []);
  const env = (cfg.Env ?? []).filter((e) => !imageEnv.has(e));

  const entrypointOwn = !same(cfg.Entrypoint, img.Entrypoint);
  // With its own entrypoint, Docker never gave the container the image's Cmd: what it has, it set.
  const cmdOwn = entrypointOwn || !same(cfg.Cmd, img.Cmd);

  const volumes = subtractKeys(cfg.Volumes, img.Volumes);
  const exposed = subtractKeys(cfg.ExposedPorts, img.ExposedPorts);
  for (const port of Object.keys(old.HostConfig.PortBindings ?? {})) exposed[port] = {};

  const networkMode = old.HostConfig.NetworkMode ?? '';
  const sharedUts = networkMode === 'host' || networkMode.startsWith('container:');
  const ownHostname =
    !sharedUts && cfg.Hostname && !old.Id.startsWith(cfg.Hostname) ? cfg.Hostname : undefined;

  const options: ContainerCreateOptions = {
    name,
    Image: imageRef,
    Env: env,
    Labels: labels,
    ...(cmdOwn && cfg.Cmd ? { Cmd: cfg.Cmd } : {}),
    ...(entrypointOwn && cfg.Entrypoint ? { Entrypoint: cfg.Entrypoint } : {}),
    ...(cfg.WorkingDir && cfg.WorkingDir !== img.WorkingDir ? { WorkingDir: cfg.WorkingDir } : {}),
    ...(cfg.User && cfg.User !== img.User ? { User: cfg.User } : {}),
    ...(cfg.Healthcheck && !same(cfg.Healthcheck, img.Healthcheck) ? { Healthcheck: cfg.Healthcheck } : {}),
    ...(cfg.StopSignal && cfg.StopSignal !== img.StopSignal ? { StopSignal: cfg.StopSignal } : {}),
    ...(cfg.StopTimeout !== undefined && cfg.StopTimeout !== null ? { StopTimeout: cfg.StopTimeout } : {}),
    ...(Object.keys(volumes).length > 0 ? { Volumes: volumes } : {}),
    ...(Object.keys(exposed).length > 0 ? { ExposedPorts: exposed } : {}),
    ...(ownHostname ? { Hostname: ownHostname } : {}),
    ...(!sharedUts && cfg.Domainname ? { Domainname: cfg.Domainname } : {}),
    Tty: cfg.Tty,
    OpenStdin: cfg.OpenStdin,
    StdinOnce: cfg.StdinOnce,
    AttachStdin: cfg.AttachStdin,
    AttachStdout: cfg.AttachStdout,
    AttachStderr: cfg.AttachStderr,
    HostConfig: { ...old.HostConfig, Mounts: [...(old.HostConfig.Mounts ?? []), ...anonymousVolumes(old)] },
    ...networkingConfig(old, networkMode),
  };
  return { ok: true, options };
}

/** The old container's volumes that no Binds/Mounts entry names (anonymous or image-declared), by name. */
function anonymousVolumes(
  old: ContainerInspect,
): NonNullable<NonNullable<ContainerCreateOptions['HostConfig']>['Mounts']> {
  const declared = new Set<string>([
    ...(old.HostConfig.Binds ?? []).map((b) => b.split(':')[1] ?? ''),
    ...(old.HostConfig.Mounts ?? []).map((m) => m.Target),
  ]);
  return (old.Mounts ?? [])
    .filter((m) => m.Type === 'volume' && m.Name && !declared.has(m.Destination))
    .map((m) => ({ Type: 'volume' as const, Source: m.Name!, Target: m.Destination, ReadOnly: !m.RW }));
}

/** A user-defined network keeps its aliases (without the old container's short id). */
function networkingConfig(old: ContainerInspect, networkMode: string): Partial<ContainerCreateOptions> {
  if (['', 'default', 'bridge', 'host', 'none'].includes(networkMode) || networkMode.startsWith('container:'))
    return {};
  const networks = (old.NetworkSettings as { Networks?: Record<string, { Aliases?: string[] | null }> })
    .Networks;
  const endpoint = networks?.[networkMode];
  if (!endpoint) return {};
  const aliases = (endpoint.Aliases ?? []).filter((a) => !old.Id.startsWith(a));
  return { NetworkingConfig: { EndpointsConfig: { [networkMode]: { Aliases: aliases } } } };
}

function subtractKeys(
  own: Record<string, unknown> | null | undefined,
  image: Record<string, unknown> | null | undefined,
): Record<string, object> {
  const out: Record<string, object> = {};
  for (const k of Object.keys(own ?? {})) if (!(k in (image ?? {}))) out[k] = {};
  return out;
}

/** Docker reports "not set" as null, undefined or [] depending on the field and the version. */
export function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(normal(a)) === JSON.stringify(normal(b));
}

function normal(v: unknown): unknown {
  if (v === undefined || v === null || v === '') return null;
  if (Array.isArray(v)) return v.length === 0 ? null : v.map(normal);
  if (typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => [k, normal(x)] as const)
      .filter(([, x]) => x !== null)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return entries.length === 0 ? null : Object.fromEntries(entries);
  }
  return v;
}

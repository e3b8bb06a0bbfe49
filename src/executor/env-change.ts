import { HELM_LABEL } from '../docker/helm-labels.js';
import { secretRefs } from '../releases/release-config.js';

/**
 * The environment a set_env gives a container (pure). `ownEnv` is what the container set itself
 * (recreateOptions: its env minus its image's defaults); the names set or unset are taken out of it,
 * then the set ones appended in name order. A name unset here that the image itself defines falls
 * back to the image's default (Docker merges the image's env under the container's; nothing can
 * take an image's variable away): it is reported in `imageDefaults`. The `helm.env-secrets` label
 * says which variables come from the secret store, by secret name, never by value.
 */
export type EnvValue = { value: string } | { secret: string; value: string };

export interface EnvChangeInput {
  ownEnv: readonly string[];
  labels: Readonly<Record<string, string>>;
  imageEnv: readonly string[];
  set: Readonly<Record<string, EnvValue>>;
  unset: readonly string[];
}

export interface EnvChange {
  env: string[];
  labels: Record<string, string>;
  /** Unset names the image defines: they keep the image's value. */
  imageDefaults: string[];
  /** Unset names that were not set at all. */
  notSet: string[];
}

export function envName(entry: string): string {
  const eq = entry.indexOf('=');
  return eq >= 0 ? entry.slice(0, eq) : entry;
}

export function applyEnvChange(input: EnvChangeInput): EnvChange {
  const names = Object.keys(input.set).sort();
  const touched = new Set([...names, ...input.unset]);
  const env = input.ownEnv.filter((e) => !touched.has(envName(e)));
  for (const name of names) env.push(`${name}=${input.set[name]!.value}`);

  const imageNames = new Set(input.imageEnv.map(envName));
  const ownNames = new Set(input.ownEnv.map(envName));
  const imageDefaults = input.unset.filter((n) => imageNames.has(n)).sort();
  const notSet = input.unset.filter((n) => !imageNames.has(n) && !ownNames.has(n)).sort();

  const refs = secretRefs(input.labels);
  for (const n of touched) delete refs[n];
  for (const name of names) {
    const v = input.set[name]!;
    if ('secret' in v) refs[name] = v.secret;
  }
  const labels = { ...input.labels };
  const refNames = Object.keys(refs).sort();
  if (refNames.length === 0) delete labels[HELM_LABEL.envSecrets];
  else labels[HELM_LABEL.envSecrets] = JSON.stringify(Object.fromEntries(refNames.map((n) => [n, refs[n]])));
  return { env, labels, imageDefaults, notSet };
}

/** The variables a process sees: the image's, overridden by the container's (Docker's merge). */
export function effectiveEnv(imageEnv: readonly string[], ownEnv: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of [...imageEnv, ...ownEnv]) out.set(envName(e), e);
  return out;
}

export function sameEnv(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

/**
 * The value each variable set_env names must have in the new containers (pure): a set one its new
 * value; an unset one the image's default where the image defines it, else null (not set).
 */
export function expectedEnv(
  set: Readonly<Record<string, EnvValue>>,
  unset: readonly string[],
  imageEnv: readonly string[],
): Record<string, string | null> {
  const image = effectiveEnv([], imageEnv);
  const out: Record<string, string | null> = {};
  for (const name of unset) {
    const entry = image.get(name);
    out[name] = entry === undefined ? null : entry.slice(name.length + 1);
  }
  for (const [name, v] of Object.entries(set)) out[name] = v.value;
  return out;
}

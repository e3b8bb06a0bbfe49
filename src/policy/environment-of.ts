// A target's real environment, decided from what Docker says about it and never from the request.
// Docker merges an image's labels into the container's Config.Labels, so an image built with
// `LABEL ghost.environment=dev` would otherwise make every container run from it "dev": anyone who
// can build an image (Forge) could lift the production gate. A ghost.* label whose value equals the
// image's label of the same name is therefore treated as inherited, because "same value as the image"
// is the only sign Docker leaves.
import { ENVIRONMENTS, type Environment } from '../contracts/identifiers.js';
import { LABEL } from '../docker/labels.js';
import { globMatches } from './glob.js';

export interface ClassificationRule {
  /** A glob on the container name (`*`, `?`). */
  pattern: string;
  environment: Environment;
}

export type Labels = Readonly<Record<string, string>> | null | undefined;
/**
 * An image's labels; `'unknown'` when the image could not be inspected (removed, engine error). Then
 * every ghost.* label of the container may be inherited: none is trusted to lower the environment.
 */
export type ImageLabels = Labels | 'unknown';

export interface EnvironmentOfInput {
  /** With or without Docker's leading slash. */
  containerName: string;
  /** The container's Config.Labels (image labels already merged in by Docker). */
  containerLabels: Labels;
  /** The labels of the image the container runs (ImageInspect Config.Labels), or 'unknown'. */
  imageLabels: ImageLabels;
  /** The owner's classification: first match wins. */
  classification: readonly ClassificationRule[];
}

export type EnvironmentSource = 'label' | 'classification' | 'default';

export interface EnvironmentVerdict {
  environment: Environment;
  source: EnvironmentSource;
}

const GHOST_PREFIX = 'ghost.';

/** production > staging > dev; anything else is not an environment. */
const STRENGTH: Readonly<Record<Environment, number>> = { production: 3, staging: 2, dev: 1 };

export function isEnvironment(value: unknown): value is Environment {
  return typeof value === 'string' && (ENVIRONMENTS as readonly string[]).includes(value);
}

function labelOf(labels: Labels, key: string): string | undefined {
  return labels && Object.hasOwn(labels, key) ? labels[key] : undefined;
}

/** The container's value when it set it itself: absent from the image, or valued differently. */
function ownLabel(containerLabels: Labels, imageLabels: ImageLabels, key: string): string | undefined {
  const value = labelOf(containerLabels, key);
  if (value === undefined || imageLabels === 'unknown') return undefined;
  return value === labelOf(imageLabels, key) ? undefined : value;
}

/** The container's value when it may have come from the image. */
function inheritedLabel(containerLabels: Labels, imageLabels: ImageLabels, key: string): string | undefined {
  const value = labelOf(containerLabels, key);
  if (value === undefined) return undefined;
  return imageLabels === 'unknown' || value === labelOf(imageLabels, key) ? value : undefined;
}

/**
 * The container's environment: its own `ghost.environment` label (exactly "production", "staging" or
 * "dev"; any other value is ignored); failing that the owner's classification (first matching
 * pattern); failing that production. A value equal to the image's cannot lower the result, but it
 * can raise it: the container may have set that same value itself (Helm does, when it recreates a
 * container from an image that carries the label too), and default is no.
 */
export function environmentOf(input: EnvironmentOfInput): EnvironmentVerdict {
  const { containerLabels, imageLabels } = input;
  const own = ownLabel(containerLabels, imageLabels, LABEL.environment);
  if (isEnvironment(own)) return { environment: own, source: 'label' };

  const name = input.containerName.replace(/^\//, '');
  const rule = input.classification.find((r) => globMatches(r.pattern, name));
  const fallback: EnvironmentVerdict = rule
    ? { environment: rule.environment, source: 'classification' }
    : { environment: 'production', source: 'default' };

  const inherited = inheritedLabel(containerLabels, imageLabels, LABEL.environment);
  if (isEnvironment(inherited) && STRENGTH[inherited] > STRENGTH[fallback.environment]) {
    return { environment: inherited, source: 'label' };
  }
  return fallback;
}

/**
 * The environment of a host-wide action (prune): the strongest among the managed containers.
 * Anything that is not an environment counts as production, and so does an empty list.
 */
export function strongestEnvironment(envs: Iterable<string>): Environment {
  let strongest: Environment | null = null;
  for (const env of envs) {
    if (!isEnvironment(env)) return 'production';
    if (strongest === null || STRENGTH[env] > STRENGTH[strongest]) strongest = env;
  }
  return strongest ?? 'production';
}

/** true when `a` is stronger than `b` (unknown strings count as production). */
export function isStronger(a: string, b: string): boolean {
  const strength = (e: string) => (isEnvironment(e) ? STRENGTH[e] : STRENGTH.production);
  return strength(a) > strength(b);
}

/** The `ghost.*` labels the container set itself: those absent from its image or valued differently. */
export function effectiveGhostLabels(
  containerLabels: Labels,
  imageLabels: ImageLabels,
): Record<string, string> {
  const out: Record<string, string> = {};
  if (!containerLabels) return out;
  for (const key of Object.keys(containerLabels).sort()) {
    if (!key.startsWith(GHOST_PREFIX)) continue;
    const value = ownLabel(containerLabels, imageLabels, key);
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/**
 * The `ghost.*` labels Helm writes explicitly when it recreates a container, so the next image can
 * neither set nor remove them: the container's own ghost.* labels, plus `ghost.environment` whenever a
 * label decided the environment (including an inherited value that raised it). An environment that
 * came from the classification or the default is not frozen into a label: the owner may change those.
 */
export function ghostLabelsForRecreate(input: EnvironmentOfInput): Record<string, string> {
  const labels = effectiveGhostLabels(input.containerLabels, input.imageLabels);
  const verdict = environmentOf(input);
  if (verdict.source === 'label') labels[LABEL.environment] = verdict.environment;
  return labels;
}

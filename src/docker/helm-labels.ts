import { LABEL } from './labels.js';

/** Labels Helm writes on the containers it creates (write-ahead intent: what made this, and from what). */
export const HELM_LABEL = {
  /** The operation (the orchestrator's intent op id) that created the container. */
  op: 'helm.op',
  /** The release the container belongs to. */
  release: 'helm.release',
  /** The release it replaced (empty for a service's first release). */
  previous: 'helm.previous',
  /**
   * JSON `{ "ENV_NAME": "secret-name" }`: env variables whose value comes from the owner's secret
   * store. A release record keeps the reference, never the value.
   */
  envSecrets: 'helm.env-secrets',
} as const;

/**
 * Labels that say what a container is and who may change it. A new image's LABEL may never change
 * them: they are written on the new container from the old container's effective values, and an
 * image that brings one the old container did not have is refused. (`ghost.healthcheck` is not
 * identity: it is a default like the image's HEALTHCHECK, and a new image may bring its own.)
 */
export function isIdentityLabel(key: string): boolean {
  return key.startsWith('ghost.') && key !== LABEL.healthcheck;
}

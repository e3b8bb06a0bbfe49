import { randomBytes } from 'node:crypto';

/**
 * Every name the demo gives what it creates, derived from one run id, so that cleaning up is a
 * question of "what carries this run's label or prefix" and two demos (or a demo and the test suite)
 * never touch each other's things. Pure.
 */
export interface DemoNames {
  run: string;
  /** The demo Helm's BullMQ prefix: its queues and keys, removed at the end. */
  prefix: string;
  /** Label put on the demo's containers and images (value: the run id). */
  label: { key: string; value: string };
  /** The demo Helm's scope: only containers with this label are its own. */
  scope: { key: string; value: string };
  services: { staging: string; production: string };
  images: { v1: string; v2: string; bad: string };
  instance: string;
}

export const DEMO_LABEL = 'helm.demo';
export const DEMO_IMAGE_REPO = 'helm-demo/web';

export function demoNames(run: string = randomBytes(3).toString('hex')): DemoNames {
  return {
    run,
    prefix: `helm-demo-${run}`,
    label: { key: DEMO_LABEL, value: run },
    scope: { key: 'ghost.scope', value: `helm-demo-${run}` },
    services: { staging: `demo-${run}-staging`, production: `demo-${run}-production` },
    images: {
      v1: `${DEMO_IMAGE_REPO}:${run}-1`,
      v2: `${DEMO_IMAGE_REPO}:${run}-2`,
      bad: `${DEMO_IMAGE_REPO}:${run}-bad`,
    },
    instance: `helm-demo-${run}`,
  };
}

/** What the demo will create and remove, in plain words: the question asked before it starts. */
export function demoPlanText(names: DemoNames, redisUrl: string): string {
  return [
    'helm demo will create, on this machine:',
    `  - three small images ${names.images.v1}, ${names.images.v2}, ${names.images.bad} (from the host's busybox)`,
    `  - two containers on loopback ports: ${names.services.staging} (staging), ${names.services.production} (production)`,
    `  - a Helm of its own in this process: queues and keys under "${names.prefix}:" on ${redisUrl},`,
    '    a temporary folder (run log, a demo Warden key), the status page on a free loopback port',
    'and remove all of it when it ends (also on failure or Ctrl-C). A Helm you run already is not touched.',
  ].join('\n');
}

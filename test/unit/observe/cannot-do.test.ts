import { describe, expect, it } from 'vitest';
import { type ActionRequest, ActionRequestSchema } from '../../../src/contracts/index.js';
import type { ResolvedService } from '../../../src/docker/target-resolution.js';
import type { ContainerSummary } from '../../../src/docker/docker-ports.js';
import { cannotDo } from '../../../src/observe/cannot-do.js';
import { hex64, inspectFixture } from '../plan/inspect-fixture.js';

const IMAGE_ID = `sha256:${'a'.repeat(64)}`;
const plain: ResolvedService = { name: 'web', via: 'ghost.service', composeProject: null, containers: [] };
const compose: ResolvedService = { ...plain, via: 'compose', composeProject: 'shop' };
const byName: ResolvedService = { ...plain, via: 'container_name' };

/** A running container of web with these labels. */
function summary(labels: Record<string, string>): ContainerSummary {
  const base = { 'ghost.service': 'web' };
  return {
    id: hex64('c'),
    name: 'web',
    image: 'shop/web:1',
    imageId: IMAGE_ID,
    labels: { ...base, ...labels },
    state: 'running',
    status: 'Up',
    createdAt: 0,
  };
}
const ROUTE = { 'ghost.route.port': '8080', 'ghost.port.env': 'PORT' };
const routed: ResolvedService = { ...plain, containers: [summary(ROUTE)] };
const mustNotDrop: ResolvedService = {
  ...plain,
  containers: [summary({ ...ROUTE, 'ghost.zero-downtime': 'true' })],
};
const wrongLabels: ResolvedService = { ...plain, containers: [summary({ 'ghost.route.port': '8080' })] };
const routedCompose: ResolvedService = { ...compose, containers: [summary(ROUTE)] };

function request(data: Record<string, unknown>): ActionRequest {
  return ActionRequestSchema.parse({ target: 'web', environment: 'production', reason: 'testing', ...data });
}

const deploy = (strategy?: string) => ({
  action: 'deploy',
  params: { image: 'shop/web:2', image_id: IMAGE_ID, ...(strategy ? { strategy } : {}) },
});

// What the gate refuses before anyone is asked, as [case, request, service, code or null].
const CASES: [string, Record<string, unknown>, ResolvedService, string | null][] = [
  ['deploy start-first to a service the proxy does not route', deploy('start-first'), plain, 'not_supported'],
  ['deploy start-first to a compose service', deploy('start-first'), routedCompose, 'not_supported'],
  ['deploy start-first to a routed service', deploy('start-first'), routed, null],
  ['deploy a routed service with the default (start-first)', deploy(), routed, null],
  ['deploy a routed service recreate', deploy('recreate'), routed, null],
  ['deploy recreate a ghost.zero-downtime=true service', deploy('recreate'), mustNotDrop, 'not_supported'],
  ['deploy a ghost.zero-downtime=true service by default', deploy(), mustNotDrop, null],
  ['deploy a service whose route labels are wrong', deploy(), wrongLabels, 'not_supported'],
  ['deploy recreate', deploy('recreate'), plain, null],
  ['deploy with the default strategy', deploy(), compose, null],
  ['scale a compose service', { action: 'scale', params: { replicas: 2 } }, compose, 'unavailable'],
  ['scale a compose service down', { action: 'scale', params: { replicas: 0 } }, compose, 'unavailable'],
  [
    'scale to 2 a service known by its name',
    { action: 'scale', params: { replicas: 2 } },
    byName,
    'not_supported',
  ],
  ['scale to 1 a service known by its name', { action: 'scale', params: { replicas: 1 } }, byName, null],
  ['scale a labelled service', { action: 'scale', params: { replicas: 5 } }, plain, null],
  [
    'set_env of a compose service',
    { action: 'set_env', params: { set: { A: 'b' } } },
    compose,
    'unavailable',
  ],
  ['set_env of a plain service', { action: 'set_env', params: { set: { A: 'b' } } }, plain, null],
  ['restart of a compose service', { action: 'restart' }, compose, null],
  ['remove of a compose service', { action: 'remove' }, compose, null],
];

describe('cannotDo: what Helm refuses before Warden is asked', () => {
  it.each(CASES)('%s', (_name, data, service, code) => {
    const refusal = cannotDo(request(data), service);
    expect(refusal?.code ?? null).toBe(code);
    if (refusal) {
      expect(refusal.message).toMatch(/nothing was changed\.?$/i);
      expect(refusal.message).not.toMatch(/\n/);
    }
  });

  // The replica new ones would copy: publishing host port 8080 (the fixture), or publishing none.
  const published = { info: inspectFixture(hex64('1'), 'web-1'), image: null };
  const worker = {
    info: inspectFixture(hex64('1'), 'web-1', { HostConfig: { PortBindings: null } }),
    image: null,
  };
  it.each([
    ['to 2, publishing a fixed host port', 2, published, 'not_supported'],
    ['to 1, publishing a fixed host port', 1, published, null],
    ['to 3, publishing none', 3, worker, null],
    ['to 2, nothing to copy (no container)', 2, null, null],
  ] as const)('scale %s', (_name, replicas, source, code) => {
    const refusal = cannotDo(request({ action: 'scale', params: { replicas } }), plain, source);
    expect(refusal?.code ?? null).toBe(code);
    if (refusal) expect(refusal.message).toContain('it publishes host port 8080->8080/tcp');
  });

  it('each deploy refusal says why and what to ask for instead', () => {
    expect(cannotDo(request(deploy('start-first')), plain)?.message).toMatch(
      /not routed through it \(no ghost\.route\.port or ghost\.route\.host label.*use strategy "recreate"/,
    );
    expect(cannotDo(request(deploy('recreate')), mustNotDrop)?.message).toMatch(
      /ghost\.zero-downtime=true.*Deploy it with strategy "start-first"/,
    );
    expect(cannotDo(request(deploy()), wrongLabels)?.message).toContain(
      'a routed service needs ghost.port.env',
    );
    expect(cannotDo(request(deploy('start-first')), routedCompose)?.message).toContain(
      'compose project shop',
    );
  });
});

import { describe, expect, it } from 'vitest';
import type { ContainerSummary } from '../../../src/docker/docker-ports.js';
import { servicesInScope } from '../../../src/docker/scope.js';
import { resolveTarget } from '../../../src/docker/target-resolution.js';

const c = (name: string, labels: Record<string, string> = {}): ContainerSummary => ({
  id: `id-${name}`,
  name,
  image: 'img',
  imageId: 'sha256:x',
  labels,
  state: 'running',
  status: 'Up',
  createdAt: 0,
});

describe('resolveTarget', () => {
  it('prefers the ghost.service label and keeps replicas together, sorted by name', () => {
    const r = resolveTarget('web', [
      c('web-2', { 'ghost.service': 'web' }),
      c('web'),
      c('web-1', { 'ghost.service': 'web' }),
    ]);
    expect(r.ok && r.service.via).toBe('ghost.service');
    expect(r.ok && r.service.containers.map((x) => x.name)).toEqual(['web-1', 'web-2']);
  });

  it('falls back to the compose service, then the exact container name', () => {
    const compose = resolveTarget('api', [
      c('shop_api_1', { 'com.docker.compose.service': 'api', 'com.docker.compose.project': 'shop' }),
      c('api'),
    ]);
    expect(compose.ok && compose.service.via).toBe('compose');
    expect(compose.ok && compose.service.composeProject).toBe('shop');
    const byName = resolveTarget('db', [c('db'), c('db2')]);
    expect(byName.ok && byName.service.containers.map((x) => x.name)).toEqual(['db']);
  });

  it('refuses to guess between two compose projects, naming both', () => {
    const r = resolveTarget('api', [
      c('a_api_1', { 'com.docker.compose.service': 'api', 'com.docker.compose.project': 'a' }),
      c('b_api_1', { 'com.docker.compose.service': 'api', 'com.docker.compose.project': 'b' }),
    ]);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe('target_ambiguous');
      expect(r.candidates).toEqual(['api in compose project a', 'api in compose project b']);
      expect(r.message).toContain('2 different services');
    }
  });

  it('leaves out the earlier releases Helm keeps (stopped, renamed, same labels)', () => {
    const r = resolveTarget('web', [
      c('web', { 'ghost.service': 'web' }),
      c('web-helm-r3', { 'ghost.service': 'web' }),
    ]);
    expect(r.ok && r.service.containers.map((x) => x.name)).toEqual(['web']);
  });

  it('answers unknown_target when nothing matches; a prefix is not a match', () => {
    const r = resolveTarget('web', [c('web-1'), c('webby', { 'ghost.service': 'webby' })]);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.code).toBe('unknown_target');
  });
});

describe('servicesInScope', () => {
  const scope = {
    labels: [{ key: 'ghost.scope', value: 't1' }],
    allServices: false,
    composeProjects: ['shop'],
  };

  it('groups what is in scope by ghost.service, compose service or name, sorted; the rest left out', () => {
    const services = servicesInScope(
      [
        c('web-2', { 'ghost.service': 'web', 'ghost.scope': 't1' }),
        c('web-1', { 'ghost.service': 'web', 'ghost.scope': 't1' }),
        c('shop-api-1', { 'com.docker.compose.project': 'shop', 'com.docker.compose.service': 'api' }),
        c('lone', { 'ghost.scope': 't1' }),
        c('other', { 'ghost.service': 'other', 'ghost.scope': 't2' }),
      ],
      scope,
    );
    expect(services.map((s) => [s.name, s.via, s.containers.map((x) => x.name)])).toEqual([
      ['api', 'compose', ['shop-api-1']],
      ['lone', 'container_name', ['lone']],
      ['web', 'ghost.service', ['web-1', 'web-2']],
    ]);
  });

  it('an empty scope is no services', () => {
    expect(servicesInScope([c('x', {})], scope)).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { isManaged, servicesInScope } from '../../../src/docker/scope.js';

describe('isManaged', () => {
  const scope = {
    labels: [{ key: 'ghost.scope', value: 't1' }],
    allServices: false,
    composeProjects: ['shop'],
  };
  it('manages exactly what the scope names', () => {
    expect(isManaged({ 'ghost.scope': 't1' }, scope)).toBe(true);
    expect(isManaged({ 'ghost.scope': 't2' }, scope)).toBe(false);
    expect(isManaged({ 'com.docker.compose.project': 'shop' }, scope)).toBe(true);
    expect(isManaged({ 'ghost.service': 'web' }, scope)).toBe(false);
    expect(isManaged({}, scope)).toBe(false);
  });
  it('the default scope manages every ghost.service container', () => {
    const all = { labels: [], allServices: true, composeProjects: [] };
    expect(isManaged({ 'ghost.service': 'web' }, all)).toBe(true);
    expect(isManaged({ other: 'x' }, all)).toBe(false);
  });
});

describe('servicesInScope', () => {
  const scope = {
    labels: [{ key: 'ghost.scope', value: 't1' }],
    allServices: false,
    composeProjects: ['shop'],
  };
  const c = (name: string, labels: Record<string, string>) => ({
    id: `${name}-id`,
    name,
    image: 'img',
    imageId: 'sha256:x',
    labels,
    state: 'running',
    status: 'Up',
    createdAt: 0,
  });

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

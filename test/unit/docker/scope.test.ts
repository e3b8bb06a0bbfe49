import { describe, expect, it } from 'vitest';
import { isManaged } from '../../../src/docker/scope.js';

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

// Roles Helm never stops, removes or changes: itself, the bus, and the front proxy (issue 11).
import { describe, expect, it } from 'vitest';
import { protectedReason } from '../../../src/executor/target-containers.js';
import { containerInspect } from './fixtures.js';

describe('protectedReason', () => {
  it.each(['helm', 'bus', 'proxy'])('refuses a container labelled ghost.role=%s', (role) => {
    const info = containerInspect({ name: 'ghost-x', config: { Labels: { 'ghost.role': role } } });
    expect(protectedReason([info])).toBe(`ghost-x is labelled ghost.role=${role}`);
  });

  it('lets any other role, or none, through', () => {
    const web = containerInspect({ name: 'web', config: { Labels: { 'ghost.role': 'web' } } });
    const plain = containerInspect({ name: 'plain' });
    expect(protectedReason([web, plain])).toBeNull();
  });
});

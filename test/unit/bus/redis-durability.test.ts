import { describe, expect, it } from 'vitest';
import { judgeDurability } from '../../../src/bus/redis-durability.js';

describe('judgeDurability', () => {
  it('accepts noeviction with AOF on', () => {
    expect(judgeDurability({ maxmemoryPolicy: 'noeviction', aofEnabled: true, version: '7' }, false)).toEqual(
      { ok: true, warnings: [] },
    );
  });
  it('refuses an evicting Redis even for development', () => {
    const v = judgeDurability({ maxmemoryPolicy: 'allkeys-lru', aofEnabled: true, version: '7' }, true);
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.problems[0]).toMatch(/maxmemory-policy is allkeys-lru: it must be noeviction/);
  });
  it('refuses AOF off unless HELM_ALLOW_VOLATILE_REDIS, which turns it into a loud warning', () => {
    const refused = judgeDurability(
      { maxmemoryPolicy: 'noeviction', aofEnabled: false, version: '7' },
      false,
    );
    expect(refused.ok).toBe(false);
    const allowed = judgeDurability({ maxmemoryPolicy: 'noeviction', aofEnabled: false, version: '7' }, true);
    expect(allowed.ok && allowed.warnings[0]).toMatch(/AOF persistence off.*HELM_ALLOW_VOLATILE_REDIS=1/);
  });
});

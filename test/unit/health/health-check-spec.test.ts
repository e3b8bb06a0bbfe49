import { describe, expect, it } from 'vitest';
import { healthCheckSpec } from '../../../src/health/health-check-spec.js';

describe('healthCheckSpec', () => {
  it('takes the label first, then the Docker HEALTHCHECK, then "running"', () => {
    expect(healthCheckSpec({ 'ghost.healthcheck': 'http://127.0.0.1:8080/health' }, ['CMD', 'x'])).toEqual({
      ok: true,
      spec: { kind: 'http', url: 'http://127.0.0.1:8080/health' },
    });
    expect(healthCheckSpec({ 'ghost.healthcheck': 'tcp://127.0.0.1:6379' }, undefined)).toEqual({
      ok: true,
      spec: { kind: 'tcp', host: '127.0.0.1', port: 6379 },
    });
    expect(healthCheckSpec({}, ['CMD-SHELL', 'wget -q -O- http://127.0.0.1/health'])).toEqual({
      ok: true,
      spec: { kind: 'docker' },
    });
    expect(healthCheckSpec({}, ['NONE'])).toEqual({ ok: true, spec: { kind: 'running' } });
    expect(healthCheckSpec({}, undefined)).toEqual({ ok: true, spec: { kind: 'running' } });
  });
  it('refuses a label that is neither http(s) nor tcp://host:port', () => {
    for (const bad of ['ftp://x/y', 'not a url', 'tcp://hostonly']) {
      const r = healthCheckSpec({ 'ghost.healthcheck': bad }, undefined);
      expect(r.ok).toBe(false);
    }
  });
});

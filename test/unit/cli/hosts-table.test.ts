import { describe, expect, it } from 'vitest';
import { hostsTable } from '../../../src/cli/hosts-table.js';

describe('hostsTable', () => {
  it('lists live hosts with their last report and unhealthy services, then silent ones', () => {
    const out = hostsTable(
      {
        live: [
          {
            host: 'host-a',
            at: '2026-12-03T10:00:00.000Z',
            refresh_ms: 10_000,
            truncated: false,
            services: [
              {
                service: 'web',
                environment: 'production',
                release: 'r1',
                containers: 1,
                running: 1,
                healthy: true,
              },
              {
                service: 'db',
                environment: 'production',
                release: null,
                containers: 1,
                running: 0,
                healthy: false,
              },
            ],
          },
        ],
        silent: ['host-b'],
      },
      new Date('2026-12-03T10:00:07.000Z'),
    );
    const lines = out.split('\n');
    expect(lines[0]).toMatch(/^HOST +LAST REPORT +SERVICES +NOT HEALTHY$/);
    expect(lines[1]).toMatch(/^host-a +seen 7s ago +2 +db$/);
    expect(lines[2]).toMatch(/^host-b +SILENT .* \? +\?$/);
  });

  it('says nothing when no host publishes', () => {
    expect(hostsTable({ live: [], silent: [] }, new Date())).toBe('');
  });
});

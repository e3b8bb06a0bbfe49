import { describe, expect, it } from 'vitest';
import { formatBytes, logGrowthAlert, unlimitedJsonLog } from '../../../src/monitor/log-growth.js';

const LOG = '/var/lib/docker/containers/abc/abc-json.log';

describe('unlimitedJsonLog: only json-file logs without max-size', () => {
  it.each([
    { name: 'json-file, no options', cfg: { Type: 'json-file', Config: {} }, want: LOG },
    { name: 'json-file, max-file only', cfg: { Type: 'json-file', Config: { 'max-file': '3' } }, want: LOG },
    { name: 'json-file, max-size', cfg: { Type: 'json-file', Config: { 'max-size': '10m' } }, want: null },
    {
      name: 'json-file, max-size -1 (unlimited)',
      cfg: { Type: 'json-file', Config: { 'max-size': '-1' } },
      want: LOG,
    },
    { name: 'no LogConfig (json-file default)', cfg: undefined, want: LOG },
    { name: 'local driver rotates itself', cfg: { Type: 'local', Config: {} }, want: null },
    { name: 'journald', cfg: { Type: 'journald', Config: {} }, want: null },
    { name: 'none', cfg: { Type: 'none', Config: {} }, want: null },
  ])('$name', ({ cfg, want }) => {
    expect(unlimitedJsonLog({ HostConfig: cfg ? { LogConfig: cfg } : {}, LogPath: LOG } as never)).toBe(want);
  });
  it('no LogPath (never started) → null', () => {
    expect(unlimitedJsonLog({ HostConfig: {}, LogPath: '' } as never)).toBeNull();
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.0 KiB'],
    [1_500_000, '1.4 MiB'],
    [1024 ** 3, '1.0 GiB'],
    [5 * 1024 ** 4, '5.0 TiB'],
  ])('%i → %s', (n, want) => {
    expect(formatBytes(n)).toBe(want);
  });
});

describe('logGrowthAlert', () => {
  it('is a warning keyed per container', () => {
    const a = logGrowthAlert(
      { id: '0123456789abcdef0123', name: 'web-1', service: 'web' },
      LOG,
      2 * 1024 ** 3,
      1024 ** 3,
      'h1',
    );
    expect(a).toMatchObject({
      severity: 'warning',
      kind: 'log_growth',
      target: 'web',
      dedup_key: 'log_growth:web:0123456789ab',
      details: { size_bytes: 2 * 1024 ** 3, threshold_bytes: 1024 ** 3, log_path: LOG },
    });
    expect(a.message).toContain('2.0 GiB');
  });
});

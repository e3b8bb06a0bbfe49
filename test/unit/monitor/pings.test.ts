import { describe, expect, it } from 'vitest';
import {
  PING_UNKNOWN,
  type PingState,
  pingableCheck,
  pingHandover,
  pingIntervalMs,
  pingStep,
} from '../../../src/monitor/pings.js';

/** Feeds ping results (true = healthy) and returns the reports, `.` for none. */
function feed(results: boolean[], failuresToCount = 2): string {
  let state: PingState = PING_UNKNOWN;
  return results
    .map((ok) => {
      const r = pingStep(state, ok, failuresToCount);
      state = r.state;
      return r.report === 'unhealthy' ? 'U' : r.report === 'healthy' ? 'H' : '.';
    })
    .join('');
}

describe('pingStep: retries before a failure counts, only changes reported', () => {
  it.each([
    { name: 'healthy baseline reports nothing', results: [true, true, true], n: 2, want: '...' },
    { name: 'one failure is a blip', results: [true, false, true, true], n: 2, want: '....' },
    { name: 'two in a row count', results: [true, false, false, false, false], n: 2, want: '..U..' },
    { name: 'back after unhealthy', results: [true, false, false, true, true], n: 2, want: '..UH.' },
    { name: 'fails from the start', results: [false, false, true], n: 2, want: '.UH' },
    { name: 'interrupted failures reset', results: [false, true, false, true, false], n: 2, want: '.....' },
    { name: 'three retries', results: [false, false, false, true], n: 3, want: '..UH' },
    { name: 'no retries (1)', results: [false, true], n: 1, want: 'UH' },
    { name: 'a count of 0 means 1', results: [false], n: 0, want: 'U' },
    { name: 'flapping after recovery', results: [false, false, true, false, false], n: 2, want: '.UH.U' },
  ])('$name', ({ results, n, want }) => {
    expect(feed(results, n)).toBe(want);
  });
});

describe('pingIntervalMs (label ghost.ping_interval_s)', () => {
  it.each([
    { label: undefined, want: 15_000 },
    { label: '30', want: 30_000 },
    { label: '2.5', want: 2_500 },
    { label: '0', want: 1_000 },
    { label: '0.2', want: 1_000 },
    { label: '999999', want: 3_600_000 },
    { label: 'abc', want: 15_000 },
    { label: '-5', want: 15_000 },
    { label: '', want: 15_000 },
  ])('$label → $want', ({ label, want }) => {
    const labels: Record<string, string> = label === undefined ? {} : { 'ghost.ping_interval_s': label };
    expect(pingIntervalMs(labels, 15_000)).toBe(want);
  });
});

describe('pingableCheck: only label checks Docker cannot see', () => {
  it.each([
    {
      labels: { 'ghost.healthcheck': 'http://127.0.0.1:8080/h' },
      test: undefined,
      want: 'GET http://127.0.0.1:8080/h',
    },
    { labels: { 'ghost.healthcheck': 'tcp://db:5432' }, test: undefined, want: 'tcp connect db:5432' },
    { labels: { 'ghost.healthcheck': 'tcp://db:5432' }, test: ['NONE'], want: 'tcp connect db:5432' },
    { labels: { 'ghost.healthcheck': 'http://x/' }, test: ['CMD', 'true'], want: null },
    { labels: {}, test: ['CMD', 'true'], want: null },
    { labels: {}, test: undefined, want: null },
    { labels: { 'ghost.healthcheck': 'ftp://x/' }, test: undefined, want: null },
  ])('$labels $test → $want', ({ labels, test, want }) => {
    const info = { Config: { Labels: labels, ...(test ? { Healthcheck: { Test: test } } : {}) } };
    expect(pingableCheck(info as never)).toBe(want);
  });
});

describe('pingHandover: what the event watcher is told', () => {
  it.each([
    { name: 'healthy and running: nothing', verdict: 'healthy', phase: 'running', last: null, want: null },
    { name: 'unknown: nothing', verdict: 'unknown', phase: 'running', last: null, want: null },
    {
      name: 'unhealthy while running',
      verdict: 'unhealthy',
      phase: 'running',
      last: null,
      want: 'unhealthy',
    },
    { name: 'told already', verdict: 'unhealthy', phase: 'running', last: 'unhealthy@running', want: null },
    {
      name: 'watcher says unhealthy already',
      verdict: 'unhealthy',
      phase: 'unhealthy',
      last: null,
      want: null,
    },
    {
      name: 'while recovering (not taken)',
      verdict: 'unhealthy',
      phase: 'recovering',
      last: null,
      want: 'unhealthy',
    },
    {
      name: 'again once it runs',
      verdict: 'unhealthy',
      phase: 'running',
      last: 'unhealthy@recovering',
      want: 'unhealthy',
    },
    {
      name: 'healthy again',
      verdict: 'healthy',
      phase: 'unhealthy',
      last: 'unhealthy@running',
      want: 'healthy',
    },
    { name: 'healthy, told', verdict: 'healthy', phase: 'unhealthy', last: 'healthy@unhealthy', want: null },
    {
      name: 'healthy, recovered',
      verdict: 'healthy',
      phase: 'running',
      last: 'healthy@unhealthy',
      want: null,
    },
  ] as const)('$name', ({ verdict, phase, last, want }) => {
    expect(pingHandover(verdict, phase, last).report).toBe(want);
  });
});

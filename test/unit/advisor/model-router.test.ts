import { describe, expect, it } from 'vitest';
import {
  isZeroDowntimeLabelled,
  type Route,
  type RouteInput,
  routeModel,
} from '../../../src/advisor/model-router.js';

const DEFAULT: Route = { model: 'default', trigger: null };
const ZERO_DOWNTIME: Route = { model: 'escalation', trigger: 'zero_downtime_deploy' };
const OUTAGE: Route = { model: 'escalation', trigger: 'active_outage' };
const MULTI: Route = { model: 'escalation', trigger: 'multi_service' };

const CASES: [string, RouteInput, Route][] = [
  // Trigger 1: a production deploy with zero-downtime requirements.
  [
    'production deploy, start-first',
    { task: 'deploy_review', environment: 'production', strategy: 'start-first' },
    ZERO_DOWNTIME,
  ],
  [
    'production deploy, service labelled zero-downtime',
    { task: 'deploy_review', environment: 'production', strategy: 'recreate', zeroDowntime: true },
    ZERO_DOWNTIME,
  ],
  ['production deploy, recreate, no label', { task: 'deploy_review', environment: 'production' }, DEFAULT],
  [
    'staging deploy, start-first',
    { task: 'deploy_review', environment: 'staging', strategy: 'start-first', zeroDowntime: true },
    DEFAULT,
  ],
  [
    'dev deploy, start-first',
    { task: 'deploy_review', environment: 'dev', strategy: 'start-first' },
    DEFAULT,
  ],
  [
    'unknown environment deploy, start-first (doubt counts as production)',
    { task: 'deploy_review', environment: 'prod', strategy: 'start-first' },
    ZERO_DOWNTIME,
  ],
  [
    'missing environment deploy, zero-downtime label',
    { task: 'deploy_review', environment: null, zeroDowntime: true },
    ZERO_DOWNTIME,
  ],
  // Trigger 2: an incident during an active production outage.
  ...(['downtime', 'crash_loop', 'unhealthy', 'deploy_failed', 'rolled_back'] as const).map(
    (kind): [string, RouteInput, Route] => [
      `production ${kind}, not serving`,
      { task: 'diagnosis', environment: 'production', incidentKind: kind, outageActive: true },
      OUTAGE,
    ],
  ),
  [
    'production rolled_back, serving again',
    { task: 'diagnosis', environment: 'production', incidentKind: 'rolled_back', outageActive: false },
    DEFAULT,
  ],
  [
    'production downtime, outage state unknown',
    { task: 'diagnosis', environment: 'production', incidentKind: 'downtime' },
    DEFAULT,
  ],
  [
    'staging crash_loop, not serving',
    { task: 'diagnosis', environment: 'staging', incidentKind: 'crash_loop', outageActive: true },
    DEFAULT,
  ],
  [
    'production cpu_high (not an outage kind)',
    { task: 'diagnosis', environment: 'production', incidentKind: 'cpu_high', outageActive: true },
    DEFAULT,
  ],
  [
    'unlabelled environment, downtime, not serving',
    { task: 'diagnosis', environment: undefined, incidentKind: 'downtime', outageActive: true },
    OUTAGE,
  ],
  // Trigger 3: a request or plan touching several services.
  [
    'request touching two services',
    { task: 'request', environment: 'dev', servicesTouched: ['web', 'db'] },
    MULTI,
  ],
  [
    'plan touching three services',
    { task: 'plan', environment: 'staging', servicesTouched: ['a', 'b', 'c'] },
    MULTI,
  ],
  [
    'request touching one service',
    { task: 'request', environment: 'production', servicesTouched: ['web'] },
    DEFAULT,
  ],
  [
    'request naming one service twice',
    { task: 'request', environment: 'production', servicesTouched: ['web', 'web'] },
    DEFAULT,
  ],
  ['request touching no known service', { task: 'request', environment: 'production' }, DEFAULT],
  // Triggers belong to their task: the same facts elsewhere do not escalate.
  [
    'diagnosis touching two services',
    { task: 'diagnosis', environment: 'dev', incidentKind: 'downtime', servicesTouched: ['a', 'b'] },
    DEFAULT,
  ],
  [
    'request in production with start-first strategy',
    { task: 'request', environment: 'production', strategy: 'start-first', servicesTouched: ['web'] },
    DEFAULT,
  ],
  [
    'deploy review during an outage',
    { task: 'deploy_review', environment: 'production', incidentKind: 'downtime', outageActive: true },
    DEFAULT,
  ],
];

describe('routeModel', () => {
  it.each(CASES)('%s', (_name, input, expected) => {
    expect(routeModel(input)).toEqual(expected);
  });
});

describe('isZeroDowntimeLabelled', () => {
  it.each([
    [{ 'ghost.zero-downtime': 'true' }, true],
    [{ 'ghost.zero-downtime': ' TRUE ' }, true],
    [{ 'ghost.zero-downtime': 'yes' }, false],
    [{ 'ghost.zero-downtime': '1' }, false],
    [{ 'ghost.zero-downtime': 'false' }, false],
    [{ 'ghost.service': 'web' }, false],
    [null, false],
  ])('%j → %s', (labels, expected) => {
    expect(isZeroDowntimeLabelled(labels)).toBe(expected);
  });
});

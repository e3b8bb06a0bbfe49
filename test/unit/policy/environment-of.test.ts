import { describe, expect, it } from 'vitest';
import {
  type ClassificationRule,
  type EnvironmentOfInput,
  effectiveGhostLabels,
  environmentOf,
  ghostLabelsForRecreate,
  strongestEnvironment,
} from '../../../src/policy/environment-of.js';
import { globMatches } from '../../../src/policy/glob.js';

const ENV = 'ghost.environment';
const classification: ClassificationRule[] = [
  { pattern: 'shop-staging-*', environment: 'staging' },
  { pattern: 'shop-*', environment: 'dev' },
  { pattern: 'db-?', environment: 'staging' },
];

function input(over: Partial<EnvironmentOfInput>): EnvironmentOfInput {
  return { containerName: '/web-1', containerLabels: {}, imageLabels: {}, classification: [], ...over };
}

describe('environmentOf', () => {
  it.each([
    ['own label', { containerLabels: { [ENV]: 'dev' } }, 'dev', 'label'],
    [
      'own label, image has none',
      { containerLabels: { [ENV]: 'staging' }, imageLabels: null },
      'staging',
      'label',
    ],
    [
      'own label differs from the image label',
      { containerLabels: { [ENV]: 'staging' }, imageLabels: { [ENV]: 'dev' } },
      'staging',
      'label',
    ],
    ['no label, no classification', {}, 'production', 'default'],
    ['null labels', { containerLabels: null, imageLabels: undefined }, 'production', 'default'],
    [
      'the image-label trick: image says dev, container only inherits it',
      { containerLabels: { [ENV]: 'dev' }, imageLabels: { [ENV]: 'dev' } },
      'production',
      'default',
    ],
    [
      'inherited staging on a classified dev name is not weakened',
      {
        containerName: 'shop-api',
        classification,
        containerLabels: { [ENV]: 'staging' },
        imageLabels: { [ENV]: 'staging' },
      },
      'staging',
      'label',
    ],
    [
      'inherited dev on a classified staging name is ignored',
      {
        containerName: 'shop-staging-api',
        classification,
        containerLabels: { [ENV]: 'dev' },
        imageLabels: { [ENV]: 'dev' },
      },
      'staging',
      'classification',
    ],
    ['invalid value "prod"', { containerLabels: { [ENV]: 'prod' } }, 'production', 'default'],
    ['invalid value "Dev"', { containerLabels: { [ENV]: 'Dev' } }, 'production', 'default'],
    ['invalid value " dev"', { containerLabels: { [ENV]: ' dev' } }, 'production', 'default'],
    ['invalid value ""', { containerLabels: { [ENV]: '' } }, 'production', 'default'],
    [
      'invalid value falls through to the classification',
      { containerName: '/shop-web', classification, containerLabels: { [ENV]: 'test' } },
      'dev',
      'classification',
    ],
    [
      'classification, first match wins',
      { containerName: '/shop-staging-web', classification },
      'staging',
      'classification',
    ],
    ['classification with ?', { containerName: 'db-1', classification }, 'staging', 'classification'],
    ['? matches exactly one character', { containerName: 'db-12', classification }, 'production', 'default'],
    [
      'a label elsewhere does not count',
      { containerLabels: { 'com.example.environment': 'dev', 'ghost.env': 'dev' } },
      'production',
      'default',
    ],
    [
      'own label beats classification',
      { containerName: 'shop-web', classification, containerLabels: { [ENV]: 'production' } },
      'production',
      'label',
    ],
  ] as const)('%s', (_name, over, environment, source) => {
    expect(environmentOf(input(over as Partial<EnvironmentOfInput>))).toEqual({ environment, source });
  });

  it('trusts no label to lower the environment when the image could not be inspected', () => {
    const unknownImage = { imageLabels: 'unknown' as const };
    expect(environmentOf(input({ ...unknownImage, containerLabels: { [ENV]: 'dev' } }))).toEqual({
      environment: 'production',
      source: 'default',
    });
    expect(
      environmentOf(
        input({
          ...unknownImage,
          containerName: 'shop-x',
          classification,
          containerLabels: { [ENV]: 'staging' },
        }),
      ),
    ).toEqual({ environment: 'staging', source: 'label' });
    expect(
      environmentOf(
        input({
          ...unknownImage,
          containerName: 'shop-staging-x',
          classification,
          containerLabels: { [ENV]: 'dev' },
        }),
      ),
    ).toEqual({ environment: 'staging', source: 'classification' });
    expect(effectiveGhostLabels({ [ENV]: 'dev', 'ghost.service': 'web' }, 'unknown')).toEqual({});
  });

  it('does not read labels from the prototype', () => {
    const labels = Object.create({ [ENV]: 'dev' }) as Record<string, string>;
    expect(environmentOf(input({ containerLabels: labels })).environment).toBe('production');
  });
});

describe('strongestEnvironment', () => {
  it.each([
    [[], 'production'],
    [['dev'], 'dev'],
    [['dev', 'staging', 'dev'], 'staging'],
    [['staging', 'production', 'dev'], 'production'],
    [['dev', 'qa'], 'production'],
    [['dev', ''], 'production'],
  ] as const)('%j → %s', (envs, expected) => {
    expect(strongestEnvironment(envs)).toBe(expected);
  });

  it('takes any iterable', () => {
    expect(strongestEnvironment(new Set(['dev', 'staging']))).toBe('staging');
  });
});

describe('effectiveGhostLabels and ghostLabelsForRecreate', () => {
  const containerLabels = {
    'ghost.service': 'web',
    'ghost.environment': 'dev',
    'ghost.healthcheck': 'http://localhost:8080/health',
    'ghost.role': 'api',
    'com.docker.compose.project': 'shop',
    maintainer: 'someone',
  };
  const imageLabels = {
    'ghost.environment': 'dev',
    'ghost.healthcheck': 'http://other/',
    'ghost.role': 'api',
  };

  it('keeps only the ghost.* labels the container set itself', () => {
    expect(effectiveGhostLabels(containerLabels, imageLabels)).toEqual({
      'ghost.service': 'web',
      'ghost.healthcheck': 'http://localhost:8080/health',
    });
    expect(effectiveGhostLabels(null, imageLabels)).toEqual({});
    expect(effectiveGhostLabels({ 'ghost.environment': 'staging' }, null)).toEqual({
      'ghost.environment': 'staging',
    });
  });

  it('never launders an inherited environment into an own label', () => {
    const old = input({ containerName: 'web-1', containerLabels, imageLabels });
    const labels = ghostLabelsForRecreate(old);
    expect(labels['ghost.environment']).toBeUndefined();
    // The recreated container, from an image without the label, is still production.
    expect(environmentOf(input({ containerLabels: labels, imageLabels: {} })).environment).toBe('production');
  });

  it('writes the environment a label decided, so the next image can neither set nor remove it', () => {
    const own = input({ containerLabels: { 'ghost.environment': 'staging' }, imageLabels: {} });
    expect(ghostLabelsForRecreate(own)).toEqual({ 'ghost.environment': 'staging' });
    const raised = input({
      containerName: 'shop-web',
      classification,
      containerLabels: { 'ghost.environment': 'production' },
      imageLabels: { 'ghost.environment': 'production' },
    });
    const labels = ghostLabelsForRecreate(raised);
    expect(labels).toEqual({ 'ghost.environment': 'production' });
    // Next image carries dev: the explicit label wins.
    expect(
      environmentOf({ ...raised, containerLabels: labels, imageLabels: { 'ghost.environment': 'dev' } }),
    ).toEqual({ environment: 'production', source: 'label' });
  });

  it('does not freeze a classification into a label', () => {
    const classified = input({ containerName: 'shop-web', classification });
    expect(ghostLabelsForRecreate(classified)).toEqual({});
  });
});

describe('globMatches', () => {
  it.each([
    ['*', '', true],
    ['*', 'anything', true],
    ['web', 'web', true],
    ['web', 'web-1', false],
    ['web-*', 'web-', true],
    ['web-*', 'web-1', true],
    ['web-*', 'api-1', false],
    ['*-1', 'web-1', true],
    ['*-1', 'web-10', false],
    ['w?b', 'web', true],
    ['w?b', 'wb', false],
    ['*a*b*c*', 'xxaxxbxxcxx', true],
    ['*a*b*c*', 'xxaxxcxxbxx', false],
    ['Web', 'web', false],
    ['a.b', 'axb', false],
    ['a**b', 'ab', true],
    ['??', 'ab', true],
    ['??', 'abc', false],
  ] as const)('%j on %j → %s', (pattern, name, expected) => {
    expect(globMatches(pattern, name)).toBe(expected);
  });

  it('stays fast on patterns that make backtracking regexes explode', () => {
    const started = performance.now();
    expect(globMatches('*a*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(5000))).toBe(false);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

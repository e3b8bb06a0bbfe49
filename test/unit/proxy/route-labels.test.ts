// The routed-service labels (issue 11), parsed and checked as data.
import { describe, expect, it } from 'vitest';
import { parseRouteLabels, renderHealthcheck } from '../../../src/proxy/route-labels.js';

describe('parseRouteLabels', () => {
  it('a container without route labels is not routed', () => {
    expect(parseRouteLabels({ 'ghost.service': 'web' })).toEqual({ ok: true, routed: null });
  });

  it('reads a port route whose app takes its port from an env var', () => {
    expect(
      parseRouteLabels({
        'ghost.route.port': '8080',
        'ghost.port.env': 'PORT',
        'ghost.healthcheck': 'http://127.0.0.1:{port}/health',
        'ghost.zero-downtime': 'true',
      }),
    ).toEqual({
      ok: true,
      routed: {
        route: { kind: 'port', port: 8080 },
        instancePort: { kind: 'env', name: 'PORT' },
        healthcheck: 'http://127.0.0.1:{port}/health',
        zeroDowntime: true,
      },
    });
  });

  it('reads a host route with a published container port and no healthcheck', () => {
    expect(
      parseRouteLabels({ 'ghost.route.host': 'shop.example.com', 'ghost.port.container': '80' }),
    ).toEqual({
      ok: true,
      routed: {
        route: { kind: 'host', host: 'shop.example.com' },
        instancePort: { kind: 'container', port: 80 },
        healthcheck: null,
        zeroDowntime: false,
      },
    });
  });

  it('prefers the template Helm kept on an instance over its rendered healthcheck', () => {
    const result = parseRouteLabels({
      'ghost.route.port': '8080',
      'ghost.port.env': 'PORT',
      'ghost.healthcheck': 'http://127.0.0.1:20001/health',
      'ghost.healthcheck.template': 'http://127.0.0.1:{port}/health',
    });
    expect(result.ok && result.routed?.healthcheck).toBe('http://127.0.0.1:{port}/health');
  });

  it.each([
    [
      { 'ghost.route.port': '8080', 'ghost.route.host': 'a.example', 'ghost.port.env': 'PORT' },
      ['set one of ghost.route.port and ghost.route.host, not both'],
    ],
    [
      { 'ghost.route.port': '80800', 'ghost.port.env': 'PORT' },
      ['label ghost.route.port="80800" is not a port (1-65535)'],
    ],
    [
      { 'ghost.route.host': 'Shop_Example', 'ghost.port.env': 'PORT' },
      ['label ghost.route.host="Shop_Example" is not a host name (lower case, e.g. shop.example.com)'],
    ],
    [
      { 'ghost.route.port': '8080' },
      [
        'a routed service needs ghost.port.env (the env var its app reads its port from) or ghost.port.container (the port to publish)',
      ],
    ],
    [
      { 'ghost.route.port': '8080', 'ghost.port.env': 'PORT', 'ghost.port.container': '80' },
      ['set one of ghost.port.env and ghost.port.container, not both'],
    ],
    [
      { 'ghost.route.port': '8080', 'ghost.port.env': '1PORT' },
      ['label ghost.port.env="1PORT" is not an environment variable name'],
    ],
    [
      {
        'ghost.route.port': '8080',
        'ghost.port.env': 'PORT',
        'ghost.healthcheck': 'http://127.0.0.1:8080/health',
      },
      [
        'label ghost.healthcheck="http://127.0.0.1:8080/health" of a routed service must use {port} (each instance is checked on its own port, never through the proxy), e.g. http://127.0.0.1:{port}/health',
      ],
    ],
    [
      {
        'ghost.route.port': '8080',
        'ghost.port.env': 'PORT',
        'ghost.healthcheck': 'ftp://127.0.0.1:{port}/',
      },
      ['label ghost.healthcheck="ftp://127.0.0.1:{port}/" must be http(s)://… or tcp://host:{port}'],
    ],
    [
      { 'ghost.route.port': '8080', 'ghost.port.env': 'PORT', 'ghost.zero-downtime': 'yes' },
      ['label ghost.zero-downtime="yes" must be true or false'],
    ],
    [{ 'ghost.port.env': 'PORT' }, ['ghost.port.env without ghost.route.port or ghost.route.host']],
  ])('refuses %j in plain words', (labels, problems) => {
    expect(parseRouteLabels(labels)).toEqual({ ok: false, problems });
  });

  it('names every problem at once', () => {
    const result = parseRouteLabels({ 'ghost.route.port': '0', 'ghost.zero-downtime': 'maybe' });
    expect(result.ok ? [] : result.problems).toHaveLength(3);
  });
});

describe('renderHealthcheck', () => {
  it('puts the instance port in every {port}', () => {
    expect(renderHealthcheck('http://127.0.0.1:{port}/health?p={port}', 20001)).toBe(
      'http://127.0.0.1:20001/health?p=20001',
    );
  });
});

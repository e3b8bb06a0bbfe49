// The owner's services file: a valid file becomes ServiceDefinitions (secrets read at deploy and
// recorded by reference only, ports as their env, named volumes); an invalid one is refused whole,
// one line per problem with its line number, never quoting an env value.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SecretStore } from '../../../src/secrets/secret-store.js';
import { SecretNotFoundError } from '../../../src/secrets/secret-store.js';
import { createOptionsFromDefinition } from '../../../src/executor/service-definition.js';
import {
  definedEnvironment,
  definitionFromSpec,
  loadServicesFile,
  makeServiceDefinitions,
  parseServicesFile,
  ServiceDefinitionError,
} from '../../../src/executor/services-file.js';

const VALID = `# the owner's services
services:
  web:
    image: helm-test/web
    environment: staging
    env:
      LOG_LEVEL: info
      DB_PASSWORD: { secret: shop-db }
    ports: { PORT: 18080 }
    mounts:
      - { volume: web-data, target: /data }
      - { volume: web-cache, target: /cache, read_only: true }
    labels: { team: shop }
    healthcheck: http://127.0.0.1:18080/health
    restart: unless-stopped
  worker:
    image: helm-test/worker:1
    environment: dev
    command: [/bin/sh, -c, "sleep 3600"]
    replicas: 3
    init: false
`;

const secrets = (values: Record<string, string>): SecretStore => ({
  async read(name) {
    const v = values[name];
    if (v === undefined) throw new SecretNotFoundError(name);
    return v;
  },
  async scan() {
    return { names: Object.keys(values), problems: [] };
  },
});

function problemsOf(text: string): string[] {
  const r = parseServicesFile(text);
  if (r.ok) throw new Error('expected the file to be refused');
  return r.problems;
}

describe('a valid services file', () => {
  it('parses; an empty file defines nothing', () => {
    const r = parseServicesFile(VALID);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(Object.keys(r.file.services)).toEqual(['web', 'worker']);
    expect(definedEnvironment(r.file, 'web')).toBe('staging');
    expect(definedEnvironment(r.file, 'nope')).toBeNull();
    expect(definedEnvironment(r.file, 'constructor')).toBeNull();
    expect(parseServicesFile('# nothing yet\n')).toEqual({ ok: true, file: { services: {} } });
    expect(parseServicesFile('services: {}\n')).toEqual({ ok: true, file: { services: {} } });
  });

  it('becomes a ServiceDefinition: secrets read now and named in helm.env-secrets, ports as env, volumes', async () => {
    const r = parseServicesFile(VALID);
    if (!r.ok) throw new Error(r.problems.join('\n'));
    const definitions = makeServiceDefinitions(r.file, secrets({ 'shop-db': 'canary-db-value' }));
    const web = await definitions('web');
    expect(web).toEqual({
      env: { LOG_LEVEL: 'info', DB_PASSWORD: 'canary-db-value', PORT: '18080' },
      labels: { team: 'shop', 'helm.env-secrets': '{"DB_PASSWORD":"shop-db"}' },
      networkMode: 'host',
      restartPolicy: 'unless-stopped',
      healthcheck: 'http://127.0.0.1:18080/health',
      mounts: [
        { volume: 'web-data', target: '/data' },
        { volume: 'web-cache', target: '/cache', readOnly: true },
      ],
    });
    expect(await definitions('other')).toBeNull();

    const options = createOptionsFromDefinition('web', web!, 'helm-test/web:1', 'staging', 0, {
      'helm.release': 'r1',
    });
    expect(options).toMatchObject({
      name: 'web',
      Image: 'helm-test/web:1',
      Labels: {
        team: 'shop',
        'ghost.healthcheck': 'http://127.0.0.1:18080/health',
        'ghost.service': 'web',
        'ghost.environment': 'staging',
        'helm.release': 'r1',
      },
      HostConfig: {
        NetworkMode: 'host',
        Init: true,
        RestartPolicy: { Name: 'unless-stopped' },
        Mounts: [
          { Type: 'volume', Source: 'web-data', Target: '/data', ReadOnly: false },
          { Type: 'volume', Source: 'web-cache', Target: '/cache', ReadOnly: true },
        ],
      },
    });
    expect(options.Env).toEqual(['LOG_LEVEL=info', 'DB_PASSWORD=canary-db-value', 'PORT=18080']);
  });

  it('a worker: command, replicas named <service>-<n>, no init', async () => {
    const r = parseServicesFile(VALID);
    if (!r.ok) throw new Error(r.problems.join('\n'));
    const worker = await makeServiceDefinitions(r.file)('worker');
    expect(worker).toEqual({
      env: {},
      labels: {},
      networkMode: 'host',
      cmd: ['/bin/sh', '-c', 'sleep 3600'],
      replicas: 3,
      init: false,
    });
    expect(createOptionsFromDefinition('worker', worker!, 'w:1', 'dev', 2, {}).name).toBe('worker-3');
  });

  it('a secret reference without a secret store, or a missing secret, fails the definition clearly', async () => {
    const r = parseServicesFile(VALID);
    if (!r.ok) throw new Error('unreachable');
    await expect(definitionFromSpec('web', r.file.services['web']!)).rejects.toThrow(ServiceDefinitionError);
    await expect(definitionFromSpec('web', r.file.services['web']!)).rejects.toThrow(
      /env DB_PASSWORD needs secret "shop-db" and Helm has no secret store/,
    );
    await expect(definitionFromSpec('web', r.file.services['web']!, secrets({}))).rejects.toThrow(
      /secret "shop-db" is not in the secret store/,
    );
  });

  it('loads from a path; problems start with the path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'helm-services-file-'));
    const good = join(dir, 'services.yml');
    writeFileSync(good, VALID);
    expect((await loadServicesFile(good)).ok).toBe(true);
    const bad = join(dir, 'bad.yml');
    writeFileSync(bad, 'services:\n  web:\n    image: x\n');
    const r = await loadServicesFile(bad);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems[0]).toBe(`${bad}: line 3: services.web.environment is required`);
    const missing = await loadServicesFile(join(dir, 'absent.yml'));
    expect(missing).toEqual({
      ok: false,
      problems: [`${join(dir, 'absent.yml')}: cannot read the services file (ENOENT)`],
    });
  });
});

describe('an invalid services file: refused whole, one line per problem', () => {
  it('missing and unknown keys, with their lines', () => {
    expect(problemsOf('service:\n  web: {}\n')).toEqual([
      'line 1: unknown key "service" (a services file takes one key: services)',
    ]);
    expect(
      problemsOf(
        [
          'services:',
          '  web:',
          '    image: helm-test/web:1',
          '    environment: staging',
          '    volumes: []',
        ].join('\n'),
      ),
    ).toEqual(['line 5: services.web: unknown key "volumes"']);
    expect(problemsOf('services:\n  web:\n    environment: dev\n')).toEqual([
      'line 3: services.web.image is required',
    ]);
  });

  it('bad values name the field and what it must be; env values are never quoted', () => {
    const text = [
      'services:',
      '  web:',
      '    image: "UPPER/Case:1"',
      '    environment: prod',
      '    env:',
      '      "1BAD": x',
      '      TOKEN: { secret: "bad name" }',
      '      NUL: "a\\u0000b-canary-env-value"',
      '    ports: { PORT: 70000 }',
      '    healthcheck: ftp://x',
      '    restart: sometimes',
      '    labels: { ghost.environment: dev, helm.release: r9 }',
      '    mounts:',
      '      - { bind: /etc, target: /etc }',
      '      - { volume: data, target: relative }',
    ].join('\n');
    const problems = problemsOf(text);
    expect(problems).toEqual([
      expect.stringMatching(/^line 3: services\.web\.image: /),
      'line 4: services.web.environment: must be one of production, staging, dev, got "prod"',
      expect.stringMatching(/^line 6: services\.web\.env\["1BAD"\]: /),
      expect.stringMatching(/^line 7: services\.web\.env\.TOKEN\.secret: must be a secret name/),
      'line 8: services.web.env.NUL: must not contain a NUL character (a process environment cannot carry one)',
      'line 9: services.web.ports.PORT: must be a port from 1 to 65535',
      'line 10: services.web.healthcheck: must be http(s)://… or tcp://host:port',
      'line 11: services.web.restart: must be one of no, always, unless-stopped, on-failure, got "sometimes"',
      expect.stringMatching(
        /^line 12: services\.web\.labels\["ghost\.environment"\]: .*ghost\.\* labels are Helm/,
      ),
      expect.stringMatching(/^line 12: services\.web\.labels\["helm\.release"\]: .*helm\.\* labels are Helm/),
      'line 14: services.web.mounts[0]: unknown key "bind": bind mounts are not available in a first release (Helm’s create guard allows it none); use a named volume',
      'line 15: services.web.mounts[1].target: must be an absolute path in the container',
    ]);
    expect(problems.join('\n')).not.toContain('canary-env-value');
  });

  it('cross-field rules: a port named twice, a volume target twice, replicas of a port-bound service', () => {
    const text = [
      'services:',
      '  web:',
      '    image: helm-test/web:1',
      '    environment: dev',
      '    env: { PORT: "1" }',
      '    ports: { PORT: 18080 }',
      '    replicas: 2',
      '    mounts: [{ volume: a, target: /d }, { volume: b, target: /d }]',
    ].join('\n');
    expect(problemsOf(text)).toEqual([
      'line 6: services.web.ports.PORT: PORT is set in env too: name the port once, under ports',
      'line 7: services.web.replicas: must be 1 for a service that listens on a port: on the host network a second replica cannot bind it',
      'line 8: services.web.mounts[1].target: is mounted twice',
    ]);
  });

  it('a bad service name is reported at its key; YAML errors and non-mappings too', () => {
    expect(problemsOf('services:\n  "bad name":\n    image: x\n    environment: dev\n')).toEqual([
      expect.stringMatching(/^line 2: services\["bad name"\]: /),
    ]);
    expect(problemsOf('services:\n  web: [\n')[0]).toMatch(/^line \d+: .*\(YAML\)$/);
    expect(problemsOf('- web\n')).toEqual([
      'line 1: the services file must be a YAML mapping with one key, services',
    ]);
    expect(problemsOf('services:\n  web: {}\n  web: {}\n')[0]).toMatch(/line 3: .*(unique|duplicate)/i);
  });
});

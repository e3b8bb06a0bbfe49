// The compose CLI as plain data (Kamal-style): every command Helm runs is a program and an argument
// array, compared here as arrays; the override file renders and reads back; the project comes from
// the containers' compose labels; the CLI is detected without a shell.
import { describe, expect, it } from 'vitest';
import {
  type CommandRunner,
  type ComposeProject,
  commandText,
  composeConfigCommand,
  composeEnv,
  composeUpCommand,
  detectComposeCli,
  outputTail,
  V1,
  V2,
} from '../../../src/executor/compose/compose-cli.js';
import {
  OverrideFileError,
  overridePath,
  ownerUpCommand,
  parseOverride,
  renderOverride,
} from '../../../src/executor/compose/compose-override.js';
import { composeProjectOf, composeServiceContainers } from '../../../src/executor/compose/compose-project.js';
import { renderComposeRollbackDoc } from '../../../src/executor/compose/compose-rollback-doc.js';
import type { ReleaseRecord } from '../../../src/releases/release-store.js';
import { containerInspect } from './fixtures.js';

const project: ComposeProject = {
  name: 'shop',
  workingDir: '/srv/shop',
  configFiles: ['/srv/shop/docker-compose.yml', '/srv/shop/docker-compose.prod.yml'],
  envFiles: [],
};
const OVERRIDE = '/var/lib/helm/memory/compose/shop/helm-override.yml';

describe('compose up argv', () => {
  it('v2 (the docker compose plugin): project, directory, the project files then the override, one service', () => {
    expect(composeUpCommand({ ...V2 }, project, OVERRIDE, 'web', 1)).toEqual({
      file: 'docker',
      args: [
        'compose',
        '--project-name',
        'shop',
        '--project-directory',
        '/srv/shop',
        '--file',
        '/srv/shop/docker-compose.yml',
        '--file',
        '/srv/shop/docker-compose.prod.yml',
        '--file',
        OVERRIDE,
        'up',
        '--detach',
        '--no-deps',
        '--no-build',
        '--force-recreate',
        '--scale',
        'web=1',
        'web',
      ],
    });
  });

  it('v1 (Debian docker-compose): the same arguments, without the plugin word', () => {
    expect(composeUpCommand({ ...V1 }, project, OVERRIDE, 'api', 3)).toEqual({
      file: 'docker-compose',
      args: [
        '--project-name',
        'shop',
        '--project-directory',
        '/srv/shop',
        '--file',
        '/srv/shop/docker-compose.yml',
        '--file',
        '/srv/shop/docker-compose.prod.yml',
        '--file',
        OVERRIDE,
        'up',
        '--detach',
        '--no-deps',
        '--no-build',
        '--force-recreate',
        '--scale',
        'api=3',
        'api',
      ],
    });
  });

  it('env files (compose v2 labels them) come before the compose files; never --remove-orphans', () => {
    const cmd = composeUpCommand(
      { ...V2 },
      { ...project, envFiles: ['/srv/shop/.env.prod'] },
      OVERRIDE,
      'web',
      0,
    );
    expect(cmd.args.slice(0, 7)).toEqual([
      'compose',
      '--project-name',
      'shop',
      '--project-directory',
      '/srv/shop',
      '--env-file',
      '/srv/shop/.env.prod',
    ]);
    expect(cmd.args).toContain('web=1'); // a service with no running replica still gets one
    expect(cmd.args).not.toContain('--remove-orphans');
  });

  it("an argument that looks like a shell's is only ever an array element; as text it is quoted", () => {
    const odd = { ...project, workingDir: "/srv/my shop; rm -rf '/'" };
    const cmd = composeUpCommand({ ...V1 }, odd, OVERRIDE, 'web', 1);
    expect(cmd.args[3]).toBe("/srv/my shop; rm -rf '/'");
    expect(commandText(cmd)).toContain(`--project-directory '/srv/my shop; rm -rf '\\''/'\\'''`);
  });

  it('the preflight check: config --quiet, with the override only once Helm has written one', () => {
    expect(composeConfigCommand({ ...V1 }, project, null)).toEqual({
      file: 'docker-compose',
      args: [
        '--project-name',
        'shop',
        '--project-directory',
        '/srv/shop',
        '--file',
        '/srv/shop/docker-compose.yml',
        '--file',
        '/srv/shop/docker-compose.prod.yml',
        'config',
        '--quiet',
      ],
    });
    expect(composeConfigCommand({ ...V2 }, project, OVERRIDE).args.slice(-4)).toEqual([
      '--file',
      OVERRIDE,
      'config',
      '--quiet',
    ]);
  });

  it("the owner's own up: the project's files plus the override, the whole project", () => {
    expect(ownerUpCommand({ ...V2 }, project, OVERRIDE).args.slice(-4)).toEqual([
      '--file',
      OVERRIDE,
      'up',
      '--detach',
    ]);
  });
});

describe('compose CLI detection and environment', () => {
  const fake =
    (answers: Record<string, number | null>): CommandRunner =>
    async (c) => {
      const key = [c.file, ...c.args].join(' ');
      const code = key in answers ? answers[key]! : null;
      return {
        code,
        stdout: code === 0 ? `${key.includes('short') ? '1.29.2' : 'Docker Compose version v2.27.0'}\n` : '',
        stderr: '',
        error: code === null ? 'ENOENT' : null,
      };
    };

  it('auto: docker compose where the plugin answers, else docker-compose, else none', async () => {
    const both = fake({ 'docker compose version': 0, 'docker-compose version --short': 0 });
    expect(await detectComposeCli('auto', both, {})).toMatchObject({
      name: 'docker compose',
      file: 'docker',
    });
    const v1 = fake({ 'docker compose version': 1, 'docker-compose version --short': 0 });
    expect(await detectComposeCli('auto', v1, {})).toEqual({
      name: 'docker-compose',
      file: 'docker-compose',
      prefix: [],
      version: '1.29.2',
    });
    expect(await detectComposeCli('auto', fake({}), {})).toBeNull();
  });

  it('a named command is the only one tried', async () => {
    const v1only = fake({ 'docker-compose version --short': 0 });
    expect(await detectComposeCli('docker compose', v1only, {})).toBeNull();
    expect(await detectComposeCli('docker-compose', v1only, {})).toMatchObject({ name: 'docker-compose' });
  });

  it("compose gets what it needs from the environment, never Helm's secrets or COMPOSE_FILE", () => {
    const env = composeEnv(
      {
        PATH: '/usr/bin',
        HOME: '/root',
        DOCKER_HOST: 'unix:///run/d.sock',
        COMPOSE_HTTP_TIMEOUT: '120',
        COMPOSE_FILE: 'x.yml',
        COMPOSE_PROJECT_NAME: 'other',
        REDIS_URL: 'redis://:pw@127.0.0.1',
        ANTHROPIC_API_KEY: 'sk-canary',
        REDIS_PASSWORD_HELM: 'canary',
      },
      { DOCKER_HOST: 'unix:///var/run/docker.sock' },
    );
    expect(env).toEqual({
      PATH: '/usr/bin',
      HOME: '/root',
      DOCKER_HOST: 'unix:///var/run/docker.sock',
      COMPOSE_HTTP_TIMEOUT: '120',
    });
  });

  it("a failed command's last output lines, joined", () => {
    expect(
      outputTail({ code: 1, stdout: '', stderr: 'Recreating x ... \nERROR: boom\n\n', error: null }),
    ).toBe('Recreating x ... | ERROR: boom');
  });
});

describe('the project from compose labels', () => {
  const labelled = (labels: Record<string, string>, created = '2026-01-01T00:00:00Z') => ({
    ...containerInspect({ name: 'shop_web_1', config: { Labels: labels } }),
    Created: created,
  });
  const base = {
    'com.docker.compose.project': 'shop',
    'com.docker.compose.service': 'web',
    'com.docker.compose.project.working_dir': '/srv/shop',
  };

  it('v1 writes the files as given (relative to the working dir); Helm’s override is left out and added last', () => {
    const info = labelled({
      ...base,
      'com.docker.compose.project.config_files': `docker-compose.yml,${OVERRIDE}`,
    });
    expect(composeProjectOf([info], OVERRIDE)).toEqual({
      ok: true,
      project: {
        name: 'shop',
        workingDir: '/srv/shop',
        configFiles: ['/srv/shop/docker-compose.yml'],
        envFiles: [],
      },
    });
  });

  it('v2 writes absolute paths and the env file', () => {
    const info = labelled({
      ...base,
      'com.docker.compose.project.config_files': '/srv/shop/compose.yaml,/srv/shop/compose.prod.yaml',
      'com.docker.compose.project.environment_file': '/srv/shop/.env',
    });
    const r = composeProjectOf([info], OVERRIDE);
    expect(r.ok && r.project.configFiles).toEqual(['/srv/shop/compose.yaml', '/srv/shop/compose.prod.yaml']);
    expect(r.ok && r.project.envFiles).toEqual(['/srv/shop/.env']);
  });

  it('the newest container names the files (the last up)', () => {
    const old = labelled({ ...base, 'com.docker.compose.project.config_files': 'a.yml' });
    const fresh = labelled(
      { ...base, 'com.docker.compose.project.config_files': 'b.yml' },
      '2026-02-01T00:00:00Z',
    );
    const r = composeProjectOf([old, fresh], OVERRIDE);
    expect(r.ok && r.project.configFiles).toEqual(['/srv/shop/b.yml']);
  });

  it('no working dir, no files, or only the override: a clear problem', () => {
    expect(composeProjectOf([labelled({ 'com.docker.compose.project': 'shop' })], OVERRIDE)).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/no absolute com\.docker\.compose\.project\.working_dir label/),
    });
    expect(composeProjectOf([labelled(base)], OVERRIDE)).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/no com\.docker\.compose\.project\.config_files label/),
    });
    expect(
      composeProjectOf(
        [labelled({ ...base, 'com.docker.compose.project.config_files': OVERRIDE })],
        OVERRIDE,
      ),
    ).toMatchObject({ ok: false, problem: expect.stringMatching(/only Helm's override/) });
  });

  it("a service's containers: not one-off runs, not Helm's kept ones, not another project's", () => {
    const c = (name: string, labels: Record<string, string>) => ({
      id: name,
      name,
      image: 'x',
      imageId: 'sha256:x',
      labels,
      state: 'running',
      status: '',
      createdAt: 0,
    });
    const svc = { 'com.docker.compose.project': 'shop', 'com.docker.compose.service': 'web' };
    const found = composeServiceContainers(
      [
        c('shop_web_2', svc),
        c('shop_web_1', { ...svc, 'com.docker.compose.oneoff': 'False' }),
        c('shop_web_run_1', { ...svc, 'com.docker.compose.oneoff': 'True' }),
        c('shop_web_1-helm-r1', svc),
        c('other_web_1', { ...svc, 'com.docker.compose.project': 'other' }),
      ],
      'shop',
      'web',
    );
    expect(found.map((x) => x.name)).toEqual(['shop_web_1', 'shop_web_2']);
  });
});

describe("Helm's override file", () => {
  const pins = {
    web: {
      image: 'helm-release/web-1a2b3c4d:r2',
      labels: { 'helm.release': 'r2', 'helm.previous': 'r1', 'helm.op': 'exec-7' },
    },
    api: { image: 'helm-release/api-5e6f7a8b:r4', labels: { 'helm.release': 'r4' } },
  };

  it('renders deterministically: header with the owner’s up, the version, services sorted, notes', () => {
    const text = renderOverride(
      project,
      { version: '2.4', pins },
      ownerUpCommand({ ...V2 }, project, OVERRIDE),
      { web: 'release r2: helm-test/web:2 (sha256:cde7)' },
    );
    expect(text).toBe(
      [
        "# Helm's override for compose project shop: it pins the image of each service Helm",
        '# deployed or rolled back. Helm rewrites this file on every deploy and rollback; do not edit it.',
        "# Include it after the project's own files in your own `up`, or `up` puts the files' images back:",
        `#   docker compose --project-name shop --project-directory /srv/shop --file /srv/shop/docker-compose.yml --file /srv/shop/docker-compose.prod.yml --file ${OVERRIDE} up --detach`,
        'version: "2.4"',
        'services:',
        '  "api":',
        '    image: "helm-release/api-5e6f7a8b:r4"',
        '    labels:',
        '      "helm.release": "r4"',
        '  # web: release r2: helm-test/web:2 (sha256:cde7)',
        '  "web":',
        '    image: "helm-release/web-1a2b3c4d:r2"',
        '    labels:',
        '      "helm.op": "exec-7"',
        '      "helm.previous": "r1"',
        '      "helm.release": "r2"',
        '',
      ].join('\n'),
    );
  });

  it('reads back what it wrote; no version key when the project has none', () => {
    const text = renderOverride(
      project,
      { version: null, pins },
      ownerUpCommand({ ...V1 }, project, OVERRIDE),
    );
    expect(text).not.toMatch(/^version:/m);
    expect(parseOverride(text, OVERRIDE)).toEqual({ version: null, pins });
    const v = renderOverride(
      project,
      { version: '3.10', pins },
      ownerUpCommand({ ...V1 }, project, OVERRIDE),
    );
    expect(parseOverride(v, OVERRIDE).version).toBe('3.10');
  });

  it('a broken override is an error, never silently replaced (it holds the other services’ pins)', () => {
    expect(() => parseOverride('services: [', OVERRIDE)).toThrow(OverrideFileError);
    expect(() => parseOverride('services:\n  web: {}\n', OVERRIDE)).toThrow(/service web has no image/);
  });

  it('lives under the memory folder, per project', () => {
    expect(overridePath('/m', 'shop')).toBe('/m/compose/shop/helm-override.yml');
    expect(overridePath('/m', '../x')).toBe('/m/compose/___x/helm-override.yml');
  });
});

describe('the compose rollback document', () => {
  const release = (id: string, image: string, imageId: string, previous: string | null): ReleaseRecord => ({
    id,
    service: 'web',
    image,
    image_id: imageId,
    manifest_digest: null,
    artifact_id: null,
    release_tag: `helm-release/web-x:${id}`,
    created_at: '2026-01-01T00:00:00.000Z',
    request_id: null,
    approval_id: null,
    environment: 'dev',
    op_id: null,
    adopted: previous === null,
    previous,
    config_digest: `sha256:${'c'.repeat(64)}`,
    containers: [
      {
        name: 'shop_web_1',
        id: 'f'.repeat(64),
        config: {
          cmd: null,
          entrypoint: null,
          env: [{ name: 'DB_PASSWORD', value: 'canary-value' }],
          labels: {},
          working_dir: '',
          user: '',
          healthcheck: null,
          exposed_ports: [],
          volumes: [],
          stop_signal: null,
          stop_timeout: null,
          tty: false,
          open_stdin: false,
          host_config: {},
        },
      },
    ],
  });

  /** The document after a deploy of r2 over r1, for Helm's name `service` and the compose key. */
  const docOf = (service: string, composeService: string) =>
    renderComposeRollbackDoc({
      service,
      composeService,
      environment: 'dev',
      event: 'deploy of r2',
      at: '2026-01-02T00:00:00.000Z',
      current: release('r2', 'helm-test/web:2', `sha256:${'2'.repeat(64)}`, 'r1'),
      previous: release('r1', 'helm-test/web:1', `sha256:${'1'.repeat(64)}`, null),
      project,
      overrideFile: OVERRIDE,
      cli: { ...V1 },
      replicas: 1,
    });

  it('tells the owner to include the override, rolls back with helm and by hand with compose, names no env value', () => {
    const text = docOf('web', 'web');
    expect(text).toContain("**Your own `up` must include the override after the project's files**");
    expect(text).toContain(commandText(ownerUpCommand({ ...V1 }, project, OVERRIDE)));
    expect(text).toContain(`helm request rollback web --environment dev --reason "roll back to r1"`);
    expect(text).toContain(commandText(composeUpCommand({ ...V1 }, project, OVERRIDE, 'web', 1)));
    expect(text).toMatch(/tagged by Helm as `helm-release\/web-[0-9a-f]{8}:r1`/);
    expect(text).toContain('the `docker compose` plugin (v2): the same arguments after `docker compose`');
    expect(text).not.toContain('canary-value');
  });

  it('addresses the compose service key, not Helm’s name for the service, in every compose command', () => {
    const text = docOf('mr-cweb', 'mrcweb');
    expect(text).toContain('mr-cweb is service `mrcweb` of compose project');
    expect(text).toContain('set `services.mrcweb.image`');
    expect(text).toContain(commandText(composeUpCommand({ ...V1 }, project, OVERRIDE, 'mrcweb', 1)));
    expect(text).toContain('--filter label=com.docker.compose.service=mrcweb`');
    expect(text).toContain('helm request rollback mr-cweb ');
    expect(text).not.toContain('services.mr-cweb');
  });
});

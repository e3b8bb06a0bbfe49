import { describe, expect, it } from 'vitest';
import type { ContainerConfigRecord } from '../../../src/releases/release-config.js';
import type { ReleaseRecord } from '../../../src/releases/release-store.js';
import { renderRollbackDoc } from '../../../src/executor/rollback-doc.js';

const config: ContainerConfigRecord = {
  cmd: ['/bin/sh', '-c', 'serve --port "$PORT"'],
  entrypoint: null,
  env: [
    { name: 'PORT', value: '3000' },
    { name: 'DB_PASSWORD', secret: 'db-password' },
    { name: 'TOKEN', withheld: true },
  ],
  labels: { 'ghost.service': 'web', 'ghost.environment': 'production', 'other.label': 'x' },
  working_dir: '',
  user: '',
  healthcheck: null,
  exposed_ports: [],
  volumes: [],
  stop_signal: null,
  stop_timeout: null,
  tty: false,
  open_stdin: false,
  host_config: {
    NetworkMode: 'host',
    Init: true,
    RestartPolicy: { Name: 'always', MaximumRetryCount: 0 },
    Binds: ['data:/data'],
  },
};

function release(id: string, previous: string | null): ReleaseRecord {
  return {
    id,
    service: 'web',
    image: `shop/web:${id}`,
    image_id: `sha256:${id === 'r1' ? '1'.repeat(64) : '2'.repeat(64)}`,
    manifest_digest: id === 'r2' ? `sha256:${'d'.repeat(64)}` : null,
    artifact_id: id === 'r2' ? 'forge:build-2' : null,
    release_tag: `helm-release/web-12345678:${id}`,
    created_at: '2026-01-01T00:00:00.000Z',
    request_id: null,
    approval_id: null,
    environment: 'production',
    op_id: null,
    adopted: id === 'r1',
    previous,
    config_digest: `sha256:${'c'.repeat(64)}`,
    containers: [{ name: 'web', id: id === 'r1' ? 'a'.repeat(64) : 'b'.repeat(64), config }],
  };
}

const input = {
  service: 'web',
  environment: 'production',
  event: 'deploy of r2',
  at: '2026-01-01T00:00:01.000Z',
  current: release('r2', 'r1'),
  previous: release('r1', null),
};

describe('renderRollbackDoc', () => {
  it('states both releases, the helm command, and the manual commands with env names only', () => {
    const doc = renderRollbackDoc({ ...input, previousKept: { web: 'web-helm-r1' } });
    expect(doc).toContain(`- image id: sha256:${'2'.repeat(64)}`);
    expect(doc).toContain(`- manifest digest: sha256:${'d'.repeat(64)}`);
    expect(doc).toContain('- artifact_id: forge:build-2');
    expect(doc).toContain(`- config digest: sha256:${'c'.repeat(64)}`);
    expect(doc).toContain(
      `helm request rollback web --environment production --reason "roll back to r1" --params '{"to":"r1"}'`,
    );
    expect(doc).toContain(
      [
        'docker stop --time 10 web',
        'docker rename web web-helm-r2',
        'docker update --restart no web-helm-r2',
      ].join('\n'),
    );
    expect(doc).toContain(
      ['docker rename web-helm-r1 web', 'docker update --restart always web', 'docker start web'].join('\n'),
    );
    expect(doc).toContain(
      `docker run -d --name web --network host --init --restart always -e PORT -e DB_PASSWORD -e TOKEN --label ghost.service=web --label ghost.environment=production --label other.label=x -v data:/data helm-release/web-12345678:r1 /bin/sh -c 'serve --port "$PORT"'`,
    );
    expect(doc).toContain('PORT, DB_PASSWORD, TOKEN');
    expect(doc).not.toContain('3000');
    expect(doc).not.toContain('db-password');
  });

  it('says to recreate when the kept containers are gone, and that a first release has nothing to go back to', () => {
    expect(renderRollbackDoc({ ...input, previousKept: {} })).toContain('The kept containers of r1 are gone');
    const first = renderRollbackDoc({ ...input, previous: null, previousKept: {} });
    expect(first).toContain('There is no earlier release to roll back to.');
    expect(first).not.toContain('helm request rollback');
  });
});

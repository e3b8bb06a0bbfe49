import { describe, expect, it } from 'vitest';
import { dockerRunArgv, envNamesToSet } from '../../../src/executor/docker-run-argv.js';
import type { ContainerConfigRecord } from '../../../src/releases/release-config.js';

const base: ContainerConfigRecord = {
  cmd: ['serve'],
  entrypoint: null,
  env: [
    { name: 'PATH', value: '/bin' },
    { name: 'PORT', value: '3000' },
    { name: 'DB_PASSWORD', secret: 'db-password' },
  ],
  labels: { 'ghost.service': 'web', 'owner.note': 'custom' },
  working_dir: '/app',
  user: '',
  healthcheck: { Test: ['CMD', 'probe', '--port', '3000 x'], Interval: 1_500_000_000 },
  exposed_ports: ['3000/tcp', '9000/tcp'],
  volumes: ['/cache'],
  stop_signal: 'SIGINT',
  stop_timeout: 5,
  tty: false,
  open_stdin: false,
  host_config: {
    NetworkMode: 'host',
    PortBindings: { '3000/tcp': [{ HostIp: '127.0.0.1', HostPort: '3000' }] },
    Memory: 1024,
    ShmSize: 64 * 1024 * 1024,
  },
};
const image = { Env: ['PATH=/bin', 'PORT=8080'], Cmd: ['serve'], WorkingDir: '/app' };

describe('dockerRunArgv', () => {
  it("leaves the image's own settings to the image and writes what the container set", () => {
    expect(envNamesToSet(base, image)).toEqual(['PORT', 'DB_PASSWORD']);
    const argv = dockerRunArgv('web', 'img:r1', base, image);
    expect(argv).not.toContain('PATH');
    expect(argv).not.toContain('--workdir');
    expect(argv.at(-1)).toBe('img:r1');
    expect(argv.join(' ')).toContain('--label owner.note=custom');
    expect(argv.join(' ')).toContain('-p 127.0.0.1:3000:3000/tcp --expose 9000/tcp');
    expect(argv.join(' ')).toContain('-v /cache');
    expect(argv.join(' ')).toContain('--stop-signal SIGINT --stop-timeout 5 --memory 1024');
    expect(argv).not.toContain('--shm-size');
    // The CLI knows CMD-SHELL only: a CMD test runs the same words, quoted, through the shell.
    expect(argv.slice(argv.indexOf('--health-cmd'), argv.indexOf('--health-cmd') + 4)).toEqual([
      '--health-cmd',
      "probe --port '3000 x'",
      '--health-interval',
      '1500ms',
    ]);
  });

  it('without the image config writes everything the record has', () => {
    const argv = dockerRunArgv('web', 'img:r1', { ...base, healthcheck: { Test: ['NONE'] } }, null);
    expect(envNamesToSet(base, null)).toEqual(['PATH', 'PORT', 'DB_PASSWORD']);
    expect(argv).toContain('--no-healthcheck');
    expect(argv.slice(-2)).toEqual(['img:r1', 'serve']);
  });
});

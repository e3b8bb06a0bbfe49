// The demo's pure parts: how it reads ldd, what it names, and how its result becomes an exit code.
import { describe, expect, it } from 'vitest';
import { demoOutput } from '../../../src/cli/demo/demo-command.js';
import { demoDockerfile, parseLdd } from '../../../src/cli/demo/demo-image.js';
import { demoNames } from '../../../src/cli/demo/demo-names.js';
import type { DemoStep } from '../../../src/cli/demo/demo-steps.js';

describe('parseLdd', () => {
  it('lists the libraries and the loader of a dynamic binary', () => {
    const text = [
      '\tlinux-vdso.so.1 (0x00007ffd)',
      '\tlibresolv.so.2 => /lib/x86_64-linux-gnu/libresolv.so.2 (0x00007f12)',
      '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f11)',
      '\t/lib64/ld-linux-x86-64.so.2 (0x00007f13)',
    ].join('\n');
    expect(parseLdd(text)).toEqual([
      '/lib/x86_64-linux-gnu/libresolv.so.2',
      '/lib/x86_64-linux-gnu/libc.so.6',
      '/lib64/ld-linux-x86-64.so.2',
    ]);
  });

  it('lists nothing for a static one', () => {
    expect(parseLdd('\tnot a dynamic executable\n')).toEqual([]);
  });
});

describe('demo names', () => {
  it('derives every name from the run id, so cleanup finds all of it', () => {
    const n = demoNames('abc123');
    expect(n.prefix).toBe('helm-demo-abc123');
    expect(n.label).toEqual({ key: 'helm.demo', value: 'abc123' });
    expect(Object.values(n.images).every((t) => t.startsWith('helm-demo/web:abc123-'))).toBe(true);
    expect(Object.values(n.services).every((s) => s.includes('abc123'))).toBe(true);
  });

  it('builds a release whose health file exists only when DEMO_HEALTH is ok', () => {
    expect(demoDockerfile()).toMatch(/if \[ \\"\$DEMO_HEALTH\\" = ok \]; then echo ok > \/www\/health; fi/);
    expect(demoDockerfile()).toMatch(/^HEALTHCHECK /m);
  });
});

describe('demoOutput', () => {
  const step = (ok: boolean): DemoStep => ({ step: 'staging_deploy', ok, summary: 'x', details: {} });
  const clean = { containers: 2, images: 3, redis_keys: 10, temp_dir: '/tmp/x', problems: [] };

  it('exit 0 only when every step passed and everything was removed', () => {
    expect(demoOutput('r', [step(true)], clean, true)).toMatchObject({ exitCode: 0, stderr: '' });
    const failed = demoOutput('r', [step(true), step(false)], clean, true);
    expect(failed.exitCode).toBe(1);
    expect(failed.stderr).toBe('helm: demo failed at staging_deploy: x\n');
    const dirty = demoOutput('r', [step(true)], { ...clean, problems: ['removing Redis keys: gone'] }, false);
    expect(dirty).toMatchObject({
      exitCode: 1,
      stderr: 'helm: demo cleanup incomplete: removing Redis keys: gone\n',
    });
  });

  it('with --json, one document on one line', () => {
    const out = demoOutput('r', [step(true)], clean, true);
    expect(out.stdout.trimEnd().split('\n')).toHaveLength(1);
    expect(JSON.parse(out.stdout)).toEqual({ ok: true, run: 'r', steps: [step(true)], cleanup: clean });
  });
});

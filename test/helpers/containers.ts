// Plain containers for tests that need a specific Cmd (a logger, a crasher): created straight through
// dockerode with the test labels, host networking and an init, then removed by the file's afterAll.
import { randomBytes } from 'node:crypto';
import { testDocker, testLabels, WEB_IMAGE_V1 } from './docker.js';

export interface ScriptContainer {
  id: string;
  name: string;
}

/** Runs `sh -c script` in the busybox web image; started unless `start: false`. */
export async function runScriptContainer(
  script: string,
  opts: { labels?: Record<string, string>; name?: string; start?: boolean; env?: string[] } = {},
): Promise<ScriptContainer> {
  const name = opts.name ?? `helm-test-sh-${randomBytes(4).toString('hex')}`;
  const c = await testDocker().createContainer({
    name,
    Image: WEB_IMAGE_V1,
    Cmd: ['/bin/sh', '-c', script],
    Env: opts.env ?? [],
    Labels: testLabels(opts.labels),
    HostConfig: { NetworkMode: 'host', Init: true },
  });
  if (opts.start !== false) await c.start();
  return { id: c.id, name };
}

export function uniqueName(stem: string): string {
  return `${stem}-${randomBytes(4).toString('hex')}`;
}

/** A uniqueName, also pushed onto `into` (the names a test file cleans up after itself). */
export function recordedName(into: string[], stem: string): string {
  const name = uniqueName(stem);
  into.push(name);
  return name;
}

export async function waitFor<T>(
  fn: () => Promise<T | undefined | null | false>,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// Shared by the executor's integration tests: an ExecContext on the real engine whose Docker
// surface records every mutating call, and whose beforeChange records every announced step in the
// same list, so a test can check that each change was announced right before it was made.
import { mkdtempSync, readdirSync, rmdirSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { expect } from 'vitest';
import { systemClock } from '../../../src/base/clock.js';
import type { DockerOps } from '../../../src/docker/docker-ports.js';
import { makeDockerOps } from '../../../src/docker/dockerode-ops.js';
import { makeDockerReads } from '../../../src/docker/dockerode-reads.js';
import { type ResolvedService, resolveTarget } from '../../../src/docker/target-resolution.js';
import type { ExecContext } from '../../../src/executor/exec-context.js';
import { makeReleaseStore } from '../../../src/releases/release-store.js';
import { STEP, type StepName } from '../../../src/executor/steps.js';
import { makeLogger } from '../../../src/log/logger.js';
import { Redactor } from '../../../src/log/redactor.js';
import { freePort, testDocker, testLabels, WEB_IMAGE_V1 } from '../../helpers/docker.js';
import { uniqueName, waitFor } from '../../helpers/containers.js';

export type LogEntry =
  | { kind: 'announce'; step: string; detail: Record<string, unknown> | undefined; at: number }
  | { kind: 'docker'; method: string; args: unknown[]; at: number };

const MUTATIONS = [
  'createContainer',
  'startContainer',
  'stopContainer',
  'restartContainer',
  'killContainer',
  'removeContainer',
  'renameContainer',
  'setRestartPolicy',
  'tagImage',
  'pullImage',
] as const;

/** Which DockerOps method each announced step stands for. */
export const METHOD_OF_STEP: Record<StepName, (typeof MUTATIONS)[number]> = {
  [STEP.pullImage]: 'pullImage',
  [STEP.tagReleaseImage]: 'tagImage',
  [STEP.stopOld]: 'stopContainer',
  [STEP.disarmOld]: 'setRestartPolicy',
  [STEP.renameOld]: 'renameContainer',
  [STEP.createNew]: 'createContainer',
  [STEP.renameKept]: 'renameContainer',
  [STEP.rearmKept]: 'setRestartPolicy',
  [STEP.startNew]: 'startContainer',
  [STEP.stopNew]: 'stopContainer',
  [STEP.removeNew]: 'removeContainer',
  [STEP.disarmKept]: 'setRestartPolicy',
  [STEP.renameKeptBack]: 'renameContainer',
  [STEP.renameOldBack]: 'renameContainer',
  [STEP.rearmOld]: 'setRestartPolicy',
  [STEP.startOld]: 'startContainer',
  [STEP.restart]: 'restartContainer',
  [STEP.stop]: 'stopContainer',
};

export interface Harness {
  ctx: ExecContext;
  log: LogEntry[];
  memoryDir: string;
  redactor: Redactor;
  /** Every line the logger wrote. */
  logLines: string[];
  steps(): string[];
  /** Forget what was recorded so far (between operations in one test). */
  reset(): void;
}

export function makeHarness(
  opts: { stabilityWindowMs?: number; healthTimeoutMs?: number; abortAt?: string; memoryDir?: string } = {},
): Harness {
  const memoryDir = opts.memoryDir ?? mkdtempSync(join(tmpdir(), 'helm-exec-test-'));
  const log: LogEntry[] = [];
  const redactor = new Redactor();
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  const real = makeDockerOps(process.env['DOCKER_HOST']);
  const docker = new Proxy(real, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof prop === 'string' && (MUTATIONS as readonly string[]).includes(prop)) {
        return (...args: unknown[]) => {
          log.push({ kind: 'docker', method: prop, args, at: Date.now() });
          return (value as (...a: unknown[]) => unknown)(...args);
        };
      }
      return value;
    },
  }) as DockerOps;
  const ctx: ExecContext = {
    docker,
    clock: systemClock,
    logger: makeLogger({ level: 'info', redactor, destination: sink }),
    redactor,
    releases: makeReleaseStore(memoryDir),
    memoryDir,
    stabilityWindowMs: opts.stabilityWindowMs ?? 1_000,
    healthTimeoutMs: opts.healthTimeoutMs ?? 15_000,
    async beforeChange(step, detail) {
      log.push({ kind: 'announce', step, detail, at: Date.now() });
      if (opts.abortAt === step) throw new LeaseLostError(step);
    },
  };
  return {
    ctx,
    log,
    memoryDir,
    redactor,
    logLines,
    steps: () => log.filter((e) => e.kind === 'announce').map((e) => (e as { step: string }).step),
    reset: () => log.splice(0, log.length),
  };
}

export class LeaseLostError extends Error {
  constructor(step: string) {
    super(`lease lost before ${step}`);
    this.name = this.constructor.name;
  }
}

/**
 * Every mutating Docker call was announced immediately before it, by a step that stands for that
 * call; an announced step is followed by its call (or by nothing, when the operation stopped there).
 */
export function expectEveryChangeAnnounced(log: readonly LogEntry[]): void {
  for (const [i, e] of log.entries()) {
    if (e.kind !== 'docker') continue;
    const before = log[i - 1];
    expect(before?.kind, `docker ${e.method} (entry ${i}) was not announced`).toBe('announce');
    const step = (before as { step: StepName }).step;
    expect(METHOD_OF_STEP[step], `step ${step} announced before docker ${e.method}`).toBe(e.method);
  }
}

/** A failed release whose restore failed too: rollback_failed, no release named restored, `message`. */
export function expectRollbackFailed(out: object, message: RegExp): void {
  expect(out, JSON.stringify(out)).toMatchObject({
    ok: false,
    code: 'rollback_failed',
    data: { restored_release: null },
  });
  expect((out as { message: string }).message).toMatch(message);
}

/** The Docker calls recorded, as "method" strings. */
export function dockerCalls(log: readonly LogEntry[]): string[] {
  return log.filter((e) => e.kind === 'docker').map((e) => (e as { method: string }).method);
}

export async function resolveService(name: string): Promise<ResolvedService> {
  const r = resolveTarget(name, await makeDockerReads(process.env['DOCKER_HOST']).listContainers());
  if (!r.ok) throw new Error(r.message);
  return r.service;
}

export interface StartedContainer {
  id: string;
  name: string;
  port: number | null;
}

/** A service container on the host network (test labels, init, `ghost.service`), started and healthy. */
export async function startServiceContainer(opts: {
  service: string;
  image?: string;
  name?: string;
  port?: number | null;
  env?: Record<string, string>;
  labels?: Record<string, string>;
  restartPolicy?: string;
  waitHealthy?: boolean;
  /** Default true. false: httpd is PID 1 and ignores SIGTERM, so a stop waits out its whole timeout. */
  init?: boolean;
  /** The container's own StopTimeout (`docker run --stop-timeout`). */
  stopTimeout?: number;
}): Promise<StartedContainer> {
  const port = opts.port === null ? null : (opts.port ?? (await freePort()));
  const name = opts.name ?? uniqueName(opts.service);
  const env = { ...(port !== null ? { PORT: String(port) } : {}), ...opts.env };
  const c = await testDocker().createContainer({
    name,
    Image: opts.image ?? WEB_IMAGE_V1,
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    Labels: testLabels({ 'ghost.service': opts.service, ...opts.labels }),
    HostConfig: {
      NetworkMode: 'host',
      Init: opts.init ?? true,
      RestartPolicy: { Name: opts.restartPolicy ?? 'no' },
    },
    ...(opts.stopTimeout !== undefined ? { StopTimeout: opts.stopTimeout } : {}),
  });
  await c.start();
  if (opts.waitHealthy !== false) await waitDockerHealthy(c.id);
  return { id: c.id, name, port };
}

/**
 * A fault for the identity checks: a started container beside a service that carries the labels
 * given (so, when they name it, the service's identity), on the host network on a free port.
 */
export async function startLabelledStray(opts: {
  name: string;
  image: string;
  labels: Record<string, string>;
}): Promise<void> {
  const c = await testDocker().createContainer({
    name: opts.name,
    Image: opts.image,
    Env: [`PORT=${await freePort()}`],
    Labels: opts.labels,
    HostConfig: { NetworkMode: 'host', Init: true },
  });
  await c.start();
}

export async function waitDockerHealthy(id: string, timeoutMs = 20_000): Promise<void> {
  await waitFor(
    async () => (await testDocker().getContainer(id).inspect()).State.Health?.Status === 'healthy',
    `container ${id.slice(0, 12)} healthy`,
    timeoutMs,
  );
}

export async function inspect(idOrName: string) {
  return testDocker().getContainer(idOrName).inspect();
}

export async function exists(idOrName: string): Promise<boolean> {
  try {
    await inspect(idOrName);
    return true;
  } catch {
    return false;
  }
}

export async function httpText(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(3_000) });
  return res.text();
}

/** Removes Helm's release tags for these services (the images themselves stay: other tags hold them). */
export async function removeReleaseTags(services: readonly string[]): Promise<void> {
  const images = await testDocker().listImages({ filters: { reference: ['helm-release/*'] } });
  for (const img of images) {
    for (const tag of img.RepoTags ?? []) {
      if (
        services.some((s) => tag.startsWith(`helm-release/${s.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-`))
      )
        await testDocker()
          .getImage(tag)
          .remove({ noprune: true })
          .catch(() => undefined);
    }
  }
}

/** Deletes a memory folder this harness made under the system temp dir (and nothing else). */
export function removeHarnessDir(dir: string): void {
  if (!dir.startsWith(join(tmpdir(), 'helm-exec-test-'))) throw new Error(`not a harness dir: ${dir}`);
  const walk = (d: string) => {
    for (const entry of readdirSync(d)) {
      const p = join(d, entry);
      if (statSync(p).isDirectory()) walk(p);
      else unlinkSync(p);
    }
    rmdirSync(d);
  };
  walk(dir);
}

/** Container events of this test run on the engine, from now until stop(). */
export async function watchEngineEvents(): Promise<{
  stop(): Promise<Array<{ Type: string; Action: string; id: string; name: string }>>;
}> {
  const startedMs = Date.now();
  const since = Math.floor(startedMs / 1000) - 1;
  return {
    async stop() {
      const until = Math.floor(Date.now() / 1000) + 1;
      await new Promise((r) => setTimeout(r, 1100));
      const stream = (await testDocker().getEvents({ since, until })) as NodeJS.ReadableStream;
      const text = await new Promise<string>((resolve, reject) => {
        let buf = '';
        stream.on('data', (d: Buffer) => {
          buf += d.toString('utf8');
        });
        stream.on('end', () => resolve(buf));
        stream.on('error', reject);
      });
      return text
        .split('\n')
        .filter((l) => l.trim())
        .map(
          (l) =>
            JSON.parse(l) as {
              Type: string;
              Action: string;
              timeNano: number;
              Actor: { ID: string; Attributes: Record<string, string> };
            },
        )
        .filter((e) => e.timeNano / 1e6 >= startedMs)
        .map((e) => ({
          Type: e.Type,
          Action: e.Action,
          id: e.Actor.ID,
          name: e.Actor.Attributes['name'] ?? '',
        }));
    },
  };
}

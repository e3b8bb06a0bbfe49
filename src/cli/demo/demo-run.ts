import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type Dockerode from 'dockerode';
import type { Config } from '../../config/config.js';
import { withCommandRedis } from '../cli-redis.js';
import { generateKeyFiles } from '../keys-command.js';
import { createDemoService, removeDemoDocker, waitHealthy } from './demo-docker.js';
import { type DemoHelm, demoMemoryDir, removeDemoKeys, startDemoHelm } from './demo-helm.js';
import { buildDemoImages, stageContext } from './demo-image.js';
import type { DemoNames } from './demo-names.js';
import {
  badRelease,
  type DemoStep,
  type DemoWorld,
  productionDeploy,
  runLogVerified,
  stagingDeploy,
  statusPage,
} from './demo-steps.js';

/**
 * One demo run: what it creates, the walk-through in order (stopping at the first step that fails),
 * and the cleanup, which runs exactly once whatever happened (the caller also runs it on Ctrl-C).
 */
export interface DemoCleanup {
  containers: number;
  images: number;
  redis_keys: number;
  temp_dir: string | null;
  problems: string[];
}

/** How long a cleanup on Ctrl-C waits for the walk to reach a checkpoint (a build takes about 1 s). */
const WALK_SETTLE_MS = 3_000;

export class DemoRun {
  private tmp: string | null = null;
  private demoHelm: DemoHelm | null = null;
  private cleaning: Promise<DemoCleanup> | null = null;
  /** The walk while it runs: a cleanup on Ctrl-C lets it reach its next checkpoint first. */
  private walking: Promise<unknown> | null = null;
  private closing = false;

  constructor(
    private readonly owner: Readonly<Config>,
    private readonly docker: Dockerode,
    private readonly names: DemoNames,
    private readonly busybox: string,
  ) {}

  /** Runs the walk-through; each step is reported as it ends. */
  walk(report: (step: DemoStep) => void): Promise<DemoStep[]> {
    const walking = this.walkSteps(report);
    this.walking = walking;
    return walking;
  }

  /** Between two things the walk creates: once a cleanup began, nothing more is created. */
  private checkpoint(): void {
    if (this.closing) throw new Error('interrupted: cleaning up');
  }

  private async walkSteps(report: (step: DemoStep) => void): Promise<DemoStep[]> {
    const steps: DemoStep[] = [];
    const add = (s: DemoStep) => {
      steps.push(s);
      report(s);
      return s.ok;
    };
    const current = { step: 'build_images' };
    try {
      this.tmp = await mkdtemp(path.join(os.tmpdir(), `helm-demo-${this.names.run}-`));
      const world = await this.prepare(this.tmp, current, add);
      const walkThrough: Array<[string, () => Promise<DemoStep[]>]> = [
        ['staging_deploy', async () => [await stagingDeploy(world)]],
        ['production_deploy', () => productionDeploy(world, report)],
        ['bad_release_rolled_back', async () => [await badRelease(world)]],
        ['run_log_verified', async () => [await runLogVerified(world)]],
        ['status_page', async () => [await statusPage(world, this.demoHelm?.helm.http?.url ?? null)]],
      ];
      for (const [name, run] of walkThrough) {
        this.checkpoint();
        current.step = name;
        const done = await run();
        // productionDeploy reports its own steps as they happen (the approval waits on the first).
        for (const s of done) name === 'production_deploy' ? steps.push(s) : add(s);
        if (done.some((s) => !s.ok)) return steps;
      }
    } catch (err) {
      const detail = this.demoHelm?.logLines.slice(-3).join(' ') ?? '';
      add({
        step: current.step,
        ok: false,
        summary: `${current.step} failed: ${(err as Error).message ?? String(err)}`,
        details: detail ? { helm_log: detail } : {},
      });
    }
    return steps;
  }

  /** The images, the two services, the demo Warden key and the demo Helm. */
  private async prepare(
    dir: string,
    current: { step: string },
    add: (s: DemoStep) => boolean,
  ): Promise<DemoWorld> {
    const started = Date.now();
    await stageContext(path.join(dir, 'image'), this.busybox);
    this.checkpoint();
    const images = await buildDemoImages(this.docker, path.join(dir, 'image'), this.names);
    add({
      step: 'build_images',
      ok: true,
      summary: `built ${this.names.images.v1}, ${this.names.images.v2} and ${this.names.images.bad} (release 3 fails its health check) from ${this.busybox} in ${Date.now() - started} ms`,
      details: { images, busybox: this.busybox },
    });

    current.step = 'create_services';
    this.checkpoint();
    const staging = await createDemoService(this.docker, this.names, 'staging');
    this.checkpoint();
    const production = await createDemoService(this.docker, this.names, 'production');
    await Promise.all([waitHealthy(this.docker, staging.name), waitHealthy(this.docker, production.name)]);
    add({
      step: 'create_services',
      ok: true,
      summary: `started ${staging.name} (ghost.environment=staging) on ${staging.url} and ${production.name} (ghost.environment=production) on ${production.url}, release 1, healthy`,
      details: { staging, production },
    });

    current.step = 'start_helm';
    this.checkpoint();
    const keys = await generateKeyFiles({ dir: path.join(dir, 'warden'), name: 'demo-warden' });
    const memoryDir = demoMemoryDir(dir);
    this.demoHelm = await startDemoHelm(this.owner, this.names, {
      memory: memoryDir,
      wardenPublicKey: keys.publicKeyPath,
    });
    add({
      step: 'start_helm',
      ok: true,
      summary: `started a Helm of the demo's own in this process (queues under "${this.names.prefix}:", run log in ${memoryDir}, trusting only the demo Warden key ${keys.keyId})`,
      details: { prefix: this.names.prefix, memory_dir: memoryDir, warden_key_id: keys.keyId },
    });
    return {
      config: this.demoHelm.config,
      docker: this.docker,
      names: this.names,
      images,
      services: { staging, production },
      wardenKeyPem: await readFile(keys.privateKeyPath, 'utf8'),
      memoryDir,
    };
  }

  /** Removes everything the run created; the same promise on every call. */
  cleanup(): Promise<DemoCleanup> {
    this.cleaning ??= (async () => {
      const problems: string[] = [];
      const attempt = async <T>(what: string, fn: () => Promise<T>, fallback: T): Promise<T> => {
        try {
          return await fn();
        } catch (err) {
          problems.push(`${what}: ${(err as Error).message ?? String(err)}`);
          return fallback;
        }
      };
      this.closing = true;
      // Helm first: its heartbeat and workers would write keys again after they were removed.
      if (this.demoHelm)
        await attempt('stopping the demo Helm', () => this.demoHelm!.helm.close(), undefined);
      // Interrupted: a build or a container create in flight ends before anything is listed.
      if (this.walking) await Promise.race([this.walking, sleep(WALK_SETTLE_MS, undefined, { ref: false })]);
      const removed = await attempt(
        'removing containers and images',
        () => removeDemoDocker(this.docker, this.names),
        {
          containers: 0,
          images: 0,
        },
      );
      const keys = await attempt(
        'removing Redis keys',
        () => withCommandRedis(this.owner.redisUrl, 'helm-demo', (r) => removeDemoKeys(r, this.names.prefix)),
        0,
      );
      // The temporary folder is the demo's own (mkdtemp above): nothing else is ever removed.
      if (this.tmp)
        await attempt(
          'removing the temporary folder',
          () => rm(this.tmp!, { recursive: true, force: true }),
          undefined,
        );
      return { ...removed, redis_keys: keys, temp_dir: this.tmp, problems };
    })();
    return this.cleaning;
  }
}

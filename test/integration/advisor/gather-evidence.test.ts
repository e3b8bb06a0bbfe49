// gatherEvidence on the real engine, release store and run log: a container that really crashes, a
// container that prints its own secret, and two recorded releases that differ in an env name.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeEvidence, summariseEvidence } from '../../../src/advisor/evidence-analyzers.js';
import { evidenceForModel } from '../../../src/advisor/evidence-for-model.js';
import { createFence } from '../../../src/advisor/fence-untrusted.js';
import { createModelRedactor } from '../../../src/advisor/redact-for-model.js';
import { systemClock } from '../../../src/base/clock.js';
import type { ContainerInspect } from '../../../src/docker/docker-objects.js';
import { makeDockerEvidenceReads } from '../../../src/docker/dockerode-evidence.js';
import { makeDockerReads } from '../../../src/docker/dockerode-reads.js';
import { Redactor } from '../../../src/log/redactor.js';
import { type EvidenceDeps, gatherEvidence } from '../../../src/observe/gather-evidence.js';
import { captureConfig } from '../../../src/releases/release-config.js';
import { makeReleaseStore, type ReleaseRecord } from '../../../src/releases/release-store.js';
import { mergeRunLogs, openRunLog } from '../../../src/runlog/index.js';
import { runScriptContainer, waitFor } from '../../helpers/containers.js';
import { crashLoopContainer } from './advisor-harness.js';
import { freePort, removeTestContainers, testDocker, WEB_IMAGE_V1 } from '../../helpers/docker.js';

const KEY = Buffer.alloc(32, 0x3c);
const servers: Server[] = [];

afterAll(async () => {
  await removeTestContainers();
  for (const s of servers) s.close();
});

function deps(memoryDir: string): EvidenceDeps {
  return {
    docker: makeDockerReads(undefined),
    evidenceReads: makeDockerEvidenceReads(undefined),
    releases: makeReleaseStore(memoryDir),
    runLogEntries: async () => (await mergeRunLogs(memoryDir, KEY)).entries,
    clock: systemClock,
  };
}

function memoryDir(): string {
  return mkdtempSync(join(tmpdir(), 'helm-evidence-test-'));
}

async function holdPort(port: number): Promise<void> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
}

describe('gatherEvidence', () => {
  it('a container that crashes on a port already in use: exit code, restarts, last log lines, die events, the analyzer names it', async () => {
    const port = await freePort();
    await holdPort(port);
    const name = await crashLoopContainer({ stem: 'helm-test-evidence-crash', env: [`PORT=${port}`] });
    const dir = memoryDir();
    const log = await openRunLog({ dir, key: KEY, clock: systemClock });
    await log.append({ event: 'alerted', target: name, message: 'crash loop detected' });
    await log.append({ event: 'alerted', target: 'other-service', message: 'not this one' });
    await log.close();

    const { bundle, gaps } = await gatherEvidence(deps(dir), {
      target: name,
      environment: 'dev',
      incidentKind: 'crash_loop',
    });

    expect(gaps).toEqual([]);
    expect(bundle.stats).toBeNull();
    expect(bundle.inspect).toMatchObject({ running: false, exitCode: 1, restartCount: 2, oomKilled: false });
    expect(bundle.logs.length).toBeGreaterThan(0);
    expect(bundle.logs.length).toBeLessThanOrEqual(50);
    expect(bundle.logs.some((l) => /address already in use/i.test(l.line))).toBe(true);
    const dies = bundle.events.filter((e) => e.action === 'die');
    expect(dies).toHaveLength(3);
    expect(dies.every((e) => e.exitCode === 1)).toBe(true);
    expect(bundle.runLog.map((r) => r.text)).toEqual(['crash loop detected']);
    expect(analyzeEvidence(bundle).map((f) => f.cause)).toContain('port_in_use');
    expect(summariseEvidence(bundle)).toContain('exit code 1');
    expect(summariseEvidence(bundle)).toContain('restarted 2 times');
  });

  it('a container that prints its own secret: the value is in no prompt text, the env name is', async () => {
    const canary = `canary-${randomBytes(8).toString('hex')}`;
    const { name } = await runScriptContainer('echo "connecting with $CANARY_TOKEN"; sleep 300', {
      env: [`CANARY_TOKEN=${canary}`],
    });
    const dir = memoryDir();
    const store = makeReleaseStore(dir);
    const info = await testDocker().getContainer(name).inspect();
    await store.saveRelease(record('r1', name, info as ContainerInspect, null), { current: true });
    await waitFor(
      async () => (await testDocker().getContainer(name).logs({ stdout: true })).length > 0,
      'logs',
    );

    const gathered = await gatherEvidence(deps(dir), {
      target: name,
      environment: 'dev',
      incidentKind: 'downtime',
    });

    expect(gathered.bundle.logs.some((l) => l.line.includes(canary))).toBe(true);
    expect(JSON.stringify(gathered.bundle)).not.toContain(`CANARY_TOKEN=${canary}`);
    const redactor = createModelRedactor({
      envValues: gathered.secretsToMask,
      publicValues: gathered.publicValues,
    });
    const prompt = evidenceForModel(gathered.bundle, { fence: createFence(), redactor });
    expect(prompt).not.toContain(canary);
    expect(prompt).toContain('CANARY_TOKEN');
    expect(prompt).toContain('connecting with [masked-');
    expect(gathered.secretsToMask).toContain(canary);
    expect(gathered.bundle.stats?.memoryBytes).toBeGreaterThan(0);
    expect(gathered.bundle.stats?.memoryLimitBytes).toBeGreaterThan(0);
    expect(prompt).toContain('[stats] CPU ');
  });

  it('two recorded releases differing in an env name: the missing env name finding', async () => {
    const service = `helm-test-evidence-rel-${randomBytes(4).toString('hex')}`;
    const dir = memoryDir();
    const store = makeReleaseStore(dir);
    const old = await runScriptContainer('sleep 300', {
      env: ['DATABASE_URL=postgres://db/app', 'LOG_LEVEL=info'],
    });
    const now = await runScriptContainer('sleep 300', { env: ['LOG_LEVEL=info'] });
    const inspect = async (n: string) => (await testDocker().getContainer(n).inspect()) as ContainerInspect;
    await store.saveRelease(record('r1', service, await inspect(old.name), null), { current: true });
    await store.saveRelease(record('r2', service, await inspect(now.name), 'r1'), { current: true });

    const { bundle } = await gatherEvidence(deps(dir), {
      target: service,
      container: now.name,
      environment: 'dev',
      incidentKind: 'crash_loop',
    });

    expect(bundle.releaseDiff?.running.releaseId).toBe('r2');
    expect(bundle.releaseDiff?.previous?.envNames).toContain('DATABASE_URL');
    expect(JSON.stringify(bundle)).not.toContain('postgres://db/app');
    const missing = analyzeEvidence(bundle).find((f) => f.cause === 'missing_env');
    expect(missing?.statement).toContain('DATABASE_URL');
    expect(missing?.evidence_ids).toEqual(['release-diff']);
  });

  it('a container that does not exist: no throw, the parts it could not read named as gaps, the rest gathered', async () => {
    const service = `helm-test-evidence-gone-${randomBytes(4).toString('hex')}`;
    const dir = memoryDir();
    const log = await openRunLog({ dir, key: KEY, clock: systemClock });
    await log.append({ event: 'failed', target: service, message: 'deploy failed' });
    await log.close();

    const { bundle, gaps } = await gatherEvidence(deps(dir), {
      target: service,
      environment: 'dev',
      incidentKind: 'downtime',
    });

    expect(bundle.inspect).toBeNull();
    expect(bundle.logs).toEqual([]);
    expect(bundle.stats).toBeNull();
    expect(gaps.map((g) => g.split(':')[0])).toEqual(expect.arrayContaining(['inspect', 'logs']));
    expect(bundle.runLog.map((r) => r.outcome)).toEqual(['failed']);
    expect(summariseEvidence(bundle)).toContain('Helm could not inspect it');
  });
});

function record(id: string, service: string, info: ContainerInspect, previous: string | null): ReleaseRecord {
  return {
    id,
    service,
    image: WEB_IMAGE_V1,
    image_id: info.Image,
    manifest_digest: null,
    artifact_id: null,
    release_tag: null,
    created_at: new Date().toISOString(),
    request_id: null,
    approval_id: null,
    environment: 'dev',
    op_id: null,
    adopted: false,
    previous,
    config_digest: `sha256:${'c'.repeat(64)}`,
    containers: [
      { name: info.Name.replace(/^\//, ''), id: info.Id, config: captureConfig(info, new Redactor()) },
    ],
  };
}

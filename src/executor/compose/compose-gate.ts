import type { LogLine } from '../../docker/logs-demux.js';
import type { ResolvedService } from '../../docker/target-resolution.js';
import { composeServiceContainers } from './compose-project.js';
import { healthGate } from '../health-gate.js';
import { lastLogs } from '../last-logs.js';
import { shortImageId } from '../release-bookkeeping.js';
import { nameOf } from '../target-containers.js';
import { type ExpectedRelease, identityOf, verifyReleaseIdentity } from '../verify-release-identity.js';
import type { ComposeTarget } from './compose-target.js';

/** The health gate of the containers compose made, and the check that they run the expected release. */

export interface GatedReplica {
  name: string;
  id: string;
  check: string;
  detail: string;
}

export type ComposeGate =
  | { ok: true; replicas: GatedReplica[] }
  | { ok: false; failure: string; failedReplica: string | null; lastLogs: LogLine[] };

/**
 * The containers compose made for the service must be the expected count, from the expected image,
 * pass their health check and (windowMs > 0) stay up through the stability window. All replicas are
 * watched at once: compose replaced them together.
 */
export async function gateComposeService(
  t: ComposeTarget,
  expectImageId: string,
  windowMs: number,
): Promise<ComposeGate> {
  const { ctx } = t;
  const found = composeServiceContainers(await ctx.docker.listContainers(), t.project.name, t.composeService);
  const wrongImage = found.find((c) => c.imageId !== expectImageId);
  if (wrongImage)
    return {
      ok: false,
      failure: `${wrongImage.name} runs image ${shortImageId(wrongImage.imageId)}, not ${shortImageId(expectImageId)}`,
      failedReplica: wrongImage.name,
      lastLogs: await lastLogs(ctx, wrongImage.id, wrongImage.name),
    };
  if (found.length !== t.replicas)
    return {
      ok: false,
      failure: `compose left ${found.length} container(s) of ${t.service}, not ${t.replicas}`,
      failedReplica: null,
      lastLogs: [],
    };
  const gates = await Promise.all(
    found.map(async (c) => ({ c, gate: await healthGate(ctx, c.id, ctx.healthTimeoutMs, windowMs) })),
  );
  const failed = gates.find((g) => !g.gate.ok);
  if (failed && !failed.gate.ok)
    return {
      ok: false,
      failure: `${failed.c.name}: ${failed.gate.reason}`,
      failedReplica: failed.c.name,
      lastLogs: await lastLogs(ctx, failed.c.id, failed.c.name),
    };
  return {
    ok: true,
    replicas: gates.map(({ c, gate }) => ({
      name: c.name,
      id: c.id,
      check: gate.ok ? gate.check : '',
      detail: gate.ok ? gate.detail : '',
    })),
  };
}

/**
 * The gate, then the check every release change makes before it reports executed
 * (verify-release-identity.ts): the containers that carry the service's identity run `expected`.
 */
export async function gateComposeRelease(
  t: ComposeTarget,
  service: Pick<ResolvedService, 'name' | 'via' | 'composeProject'>,
  expected: ExpectedRelease,
  windowMs: number,
): Promise<ComposeGate> {
  const gate = await gateComposeService(t, expected.imageId, windowMs);
  if (!gate.ok) return gate;
  const problem = await verifyReleaseIdentity(
    t.ctx,
    identityOf(service),
    expected,
    gate.replicas.map((r) => r.id),
  );
  return problem ? { ok: false, failure: problem, failedReplica: null, lastLogs: [] } : gate;
}

/** The last lines of the service's containers that run `imageId` (after a failed `up`). */
export async function logsOfImage(t: ComposeTarget, imageId: string): Promise<LogLine[]> {
  const found = composeServiceContainers(
    await t.ctx.docker.listContainers(),
    t.project.name,
    t.composeService,
  );
  const c = found.find((x) => x.imageId === imageId);
  return c ? lastLogs(t.ctx, c.id, c.name) : [];
}

/** The service's containers after a change, inspected, by name. */
export async function inspectComposeService(t: ComposeTarget, ids: readonly string[]) {
  const infos = await Promise.all(ids.map((id) => t.ctx.docker.inspectContainer(id)));
  return infos.sort((a, b) => nameOf(a).localeCompare(nameOf(b)));
}

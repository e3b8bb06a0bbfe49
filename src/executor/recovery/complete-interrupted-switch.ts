import type { ContainerInspect } from '../../docker/docker-objects.js';
import { resolveTarget } from '../../docker/target-resolution.js';
import type { ExecResult } from '../../exec-job/exec-job.js';
import { type ReleaseRecord, releaseSummary } from '../../releases/release-store.js';
import type { ExecContext, ExecMeta } from '../exec-context.js';
import { healthGate } from '../health-gate.js';
import { recordOf, shortImageId, tagReleaseImage, writeServiceRollbackDoc } from '../release-bookkeeping.js';
import { healthWords, secondsText } from '../outcome-words.js';
import { nameOf } from '../target-containers.js';
import { type ExpectedRelease, identityOf, verifyReleaseIdentity } from '../verify-release-identity.js';
import type { InterruptedSwitch } from './read-interrupted-switch.js';

/** A container of the new release that passed its health gate again. */
interface Gated {
  c: ContainerInspect;
  detail: string;
  check: string;
}

/**
 * The new release was up when Helm stopped: its health gate runs again (health check and the
 * stability window) and, as the operation itself would, Docker must show the containers carrying the
 * service's identity on the new release; passing both, it is recorded as executed (record current,
 * Helm's tag, rollback document), exactly as the operation would have. Failing: why (it is undone).
 */
export async function completeInterruptedSwitch(
  ctx: ExecContext,
  sw: InterruptedSwitch,
  started: number,
): Promise<{ result: ExecResult } | { failure: string }> {
  const checked = await checkNewRelease(ctx, sw);
  if ('failure' in checked) return checked;
  return { result: await recordAsExecuted(ctx, sw, checked.gates, started) };
}

async function checkNewRelease(
  ctx: ExecContext,
  sw: InterruptedSwitch,
): Promise<{ gates: Gated[] } | { failure: string }> {
  const gates: Gated[] = [];
  for (const c of sw.fresh.filter((x) => sw.expected.includes(nameOf(x)))) {
    const gate = await healthGate(ctx, c.Id, ctx.healthTimeoutMs, ctx.stabilityWindowMs);
    if (!gate.ok)
      return {
        failure: `${sw.target} was up when Helm stopped, but failed its health gate afterwards (${nameOf(c)}: ${gate.reason})`,
      };
    gates.push({ c, detail: gate.detail, check: gate.check });
  }
  // As the operation itself would before reporting executed: Docker shows the service's identity
  // on the new release (a deploy's image: the plan's, else its record's, else what it created).
  const imageId =
    (sw.plan?.action === 'deploy' ? sw.plan.desired.image_id : null) ??
    sw.toRecord?.image_id ??
    gates[0]!.c.Image;
  const wrong = await identityProblem(
    ctx,
    sw.name,
    { release: sw.target, imageId },
    gates.map((g) => g.c.Id),
  );
  return wrong ? { failure: wrong } : { gates };
}

async function recordAsExecuted(
  ctx: ExecContext,
  sw: InterruptedSwitch,
  gates: readonly Gated[],
  started: number,
): Promise<ExecResult> {
  const { intent, name, fromRecord } = sw;
  const infos = await Promise.all(gates.map((g) => ctx.docker.inspectContainer(g.c.Id)));
  const record = sw.isDeploy ? await deployedRecord(ctx, sw, infos) : rolledBackRecord(sw, infos);
  await ctx.releases.saveRelease(record, { current: true });
  await writeServiceRollbackDoc(
    ctx,
    name,
    sw.environment,
    `${intent.action} to ${record.id} (recovered ${sw.words})`,
    record,
    sw.isDeploy ? null : fromRecord,
  );
  const was = fromRecord ? `; ${fromRecord.id} kept for rollback` : '';
  return {
    ok: true,
    outcome: `recovered ${sw.words}: ${record.id} healthy, recorded as executed (${name} runs ${record.image} (${shortImageId(record.image_id)}); ${healthWords(gates[0]?.detail ?? 'running')}${was}; recovery took ${secondsText(performance.now() - started)})`,
    data: {
      recovered: true,
      crashed_at_step: sw.step,
      release: record.id,
      previous_release: fromRecord?.id ?? null,
      containers: gates.map((g) => ({
        name: nameOf(g.c),
        id: g.c.Id.slice(0, 12),
        check: g.check,
        detail: g.detail,
      })),
      ms: Math.round(performance.now() - started),
    },
    release: releaseSummary(record),
  };
}

/** A deploy's record: T's own when it names these containers, else made as the deploy would; tagged. */
async function deployedRecord(
  ctx: ExecContext,
  sw: InterruptedSwitch,
  infos: readonly ContainerInspect[],
): Promise<ReleaseRecord> {
  const { intent, plan, toRecord: had } = sw;
  const meta: ExecMeta = {
    requestId: plan?.request_id ?? null,
    approvalId: intent.approval_id,
    environment: sw.environment,
    opId: intent.op,
  };
  const deployDesired = plan?.action === 'deploy' ? plan.desired : null;
  const same =
    had &&
    JSON.stringify(had.containers.map((c) => c.id).sort()) === JSON.stringify(infos.map((i) => i.Id).sort());
  const record =
    same && had
      ? had
      : recordOf(ctx, {
          id: sw.target,
          service: sw.name,
          image: deployDesired?.image ?? infos[0]!.Config.Image,
          infos: [...infos],
          manifestDigest: deployDesired?.manifest_digest ?? null,
          artifactId: deployDesired?.artifact_id ?? null,
          meta,
          adopted: false,
          previous: sw.fromRecord?.id ?? intent.from_release,
        });
  await tagReleaseImage(ctx, record);
  return record;
}

/** A rollback's record: T's, with the ids its replicas run under now. */
function rolledBackRecord(sw: InterruptedSwitch, infos: readonly ContainerInspect[]): ReleaseRecord {
  const ids = new Map(infos.map((i) => [nameOf(i), i.Id]));
  return {
    ...sw.toRecord!,
    containers: sw.toRecord!.containers.map((c) => ({ ...c, id: ids.get(c.name) ?? c.id })),
  };
}

/** verifyReleaseIdentity on the service as a request's target resolves now; null: Docker shows `expected`. */
async function identityProblem(
  ctx: ExecContext,
  service: string,
  expected: ExpectedRelease,
  madeIds: readonly string[],
): Promise<string | null> {
  const resolved = resolveTarget(service, await ctx.docker.listContainers());
  if (!resolved.ok)
    return `after the change, Helm cannot tell which containers are ${service}: ${resolved.message}`;
  return verifyReleaseIdentity(ctx, identityOf(resolved.service), expected, madeIds);
}

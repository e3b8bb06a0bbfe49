import type { ResolvedService } from '../../docker/target-resolution.js';
import type { ExecContext } from '../exec-context.js';
import { tagReleaseImage } from '../release-bookkeeping.js';
import { type ReleaseRecord, releaseTag } from '../../releases/release-store.js';
import type { ComposeTarget } from './compose-target.js';
import { COMPOSE_STEP } from './compose-target.js';
import { pinAndUp } from './compose-pin.js';
import { type GatedReplica, gateComposeRelease } from './compose-gate.js';
import { releaseLabels } from '../release-skeleton.js';
import type { ExecMeta } from '../exec-context.js';
import type { LogLine } from '../../docker/logs-demux.js';
import type { ReleaseOutcome } from '../release-outcome.js';
import { failedReleaseOutcome } from '../failed-release.js';
import type { ExpectedRelease } from '../verify-release-identity.js';
import { writeComposeRollbackDoc } from './compose-rollback-doc.js';

/**
 * The compose release skeleton (as release-skeleton.ts for plain services): a release's image pinned
 * and `up`, health-gated, and on failure the release that ran before pinned again and checked.
 */

/** Helm's tag for a release's image, tagged again when it is missing or moved; null when the image is gone. */
export async function ensureReleaseTag(ctx: ExecContext, release: ReleaseRecord): Promise<string | null> {
  const tag = releaseTag(release.service, release.id);
  const tagged = await ctx.docker.findImage(tag.ref);
  if (tagged?.Id === release.image_id) return tag.ref;
  if (!(await ctx.docker.findImage(release.image_id))) return null;
  await tagReleaseImage(ctx, release);
  return tag.ref;
}

/**
 * After a failed deploy or rollback: pins `release` again, `up`, and checks the containers healthy
 * (no stability window: the release ran before) and Docker showing the service on `release` (the
 * identity check every release change makes).
 */
export async function restoreComposeRelease(
  t: ComposeTarget,
  service: Pick<ResolvedService, 'name' | 'via' | 'composeProject'>,
  release: ReleaseRecord,
  opId: string,
): Promise<{ restored: boolean; detail: string; replicas: GatedReplica[] }> {
  const image = await ensureReleaseTag(t.ctx, release);
  if (!image)
    return {
      restored: false,
      detail: `image ${release.image_id} of ${release.id} is no longer on the engine`,
      replicas: [],
    };
  const up = await pinAndUp(
    t,
    { image, labels: releaseLabels(opId, release.id, release.previous) },
    {
      pin: COMPOSE_STEP.pinRestore,
      up: COMPOSE_STEP.upRestore,
    },
  );
  if (!up.ok) return { restored: false, detail: up.failure, replicas: [] };
  const gate = await gateComposeRelease(
    t,
    service,
    { release: release.id, imageId: release.image_id, restoring: true },
    0,
  );
  if (!gate.ok) return { restored: false, detail: `${release.id} is back but ${gate.failure}`, replicas: [] };
  return {
    restored: true,
    detail: gate.replicas.map((r) => `${r.name}: ${r.detail}`).join('; '),
    replicas: gate.replicas,
  };
}

/** What a compose result's data names: the project, the CLI, the override. */
export function composeData(t: ComposeTarget): Record<string, unknown> {
  return {
    project: t.project.name,
    working_dir: t.project.workingDir,
    config_files: t.project.configFiles,
    override: t.overrideFile,
    cli: `${t.cli.name} ${t.cli.version}`.trim(),
  };
}

/** The rollback document for a compose service; `previous` defaults to the release `current` replaced. */
export async function writeComposeDoc(
  t: ComposeTarget,
  environment: string,
  event: string,
  current: ReleaseRecord,
  previous?: ReleaseRecord | null,
): Promise<string> {
  const prev =
    previous !== undefined
      ? previous
      : current.previous
        ? await t.ctx.releases.getRelease(t.service, current.previous)
        : null;
  return writeComposeRollbackDoc(t.ctx.memoryDir, {
    service: t.service,
    composeService: t.composeService,
    environment,
    event,
    at: t.ctx.clock.now().toISOString(),
    current,
    previous: prev,
    project: t.project,
    overrideFile: t.overrideFile,
    cli: t.cli,
    replicas: t.replicas,
  });
}

/**
 * A release that runs again in new containers (compose recreated them): its record gets their ids,
 * and it is current again, so the next deploy or rollback recognises what runs as that release.
 */
export async function withContainers(
  t: ComposeTarget,
  release: ReleaseRecord,
  replicas: readonly GatedReplica[],
): Promise<ReleaseRecord> {
  const ids = new Map(replicas.map((r) => [r.name, r.id]));
  const updated: ReleaseRecord = {
    ...release,
    containers: release.containers.map((c, i) => ({
      ...c,
      id: ids.get(c.name) ?? replicas[i]?.id ?? c.id,
    })),
  };
  await t.ctx.releases.saveRelease(updated, { current: true });
  return updated;
}

/** One compose release change, as data: switchComposeRelease performs it. */
export interface ComposeSwitch {
  /** Helm's tag (or the image) the override pins. */
  image: string;
  /** The override's comment line for the pin (deploy: what the release is). */
  note?: string;
  /** What the containers compose makes must be (its `release` is the one the failure names). */
  expected: ExpectedRelease;
  /** The release that runs now: pinned again when the change fails. */
  restoring: ReleaseRecord;
  /** The last log lines when `up` itself failed (the gate brings its own). */
  logsIfUpFailed(): Promise<LogLine[]>;
  /** Told the failure before the previous release is pinned again. */
  onFailure?(failure: string): void;
  /** On failure: the outcome's words, and the rollback document's event and previous release. */
  failed(
    failure: string,
    restore: { restored: boolean; detail: string },
  ): { message: string; docEvent: string; docPrevious?: ReleaseRecord | null };
}

/**
 * compose_pin, compose_up and the health gate; on failure the release that ran before is pinned and
 * `up` again, checked, recorded with its new containers when it is back, the rollback document
 * written, and the failure answered as every release operation answers it.
 */
export async function switchComposeRelease(
  t: ComposeTarget,
  service: Pick<ResolvedService, 'name' | 'via' | 'composeProject'>,
  meta: ExecMeta & { opId: string },
  s: ComposeSwitch,
  started: number,
): Promise<{ ok: true; replicas: GatedReplica[] } | { ok: false; outcome: ReleaseOutcome }> {
  const labels = releaseLabels(meta.opId, s.expected.release, s.restoring.id);
  const up = await pinAndUp(
    t,
    { image: s.image, labels },
    { pin: COMPOSE_STEP.pin, up: COMPOSE_STEP.up },
    s.note,
  );
  const gate = up.ok ? await gateComposeRelease(t, service, s.expected, t.ctx.stabilityWindowMs) : null;
  if (up.ok && gate?.ok) return { ok: true, replicas: gate.replicas };
  const failure = !up.ok ? up.failure : gate && !gate.ok ? gate.failure : 'unknown';
  const logs = gate && !gate.ok ? gate.lastLogs : await s.logsIfUpFailed();
  s.onFailure?.(failure);
  const restore = await restoreComposeRelease(t, service, s.restoring, meta.opId);
  const words = s.failed(failure, restore);
  const now = restore.restored ? await withContainers(t, s.restoring, restore.replicas) : s.restoring;
  await writeComposeDoc(t, meta.environment, words.docEvent, now, words.docPrevious);
  const outcome = failedReleaseOutcome(t.ctx, {
    restored: restore.restored,
    message: words.message,
    failedRelease: s.expected.release,
    restoredRelease: s.restoring.id,
    failure,
    failedReplica: gate && !gate.ok ? gate.failedReplica : null,
    lastLogs: logs,
    ms: Math.round(performance.now() - started),
    extra: { compose: composeData(t) },
  });
  return { ok: false, outcome };
}

import type { ActionOutcome } from '../actions/action-types.js';
import type { ContainerInspect } from '../docker/docker-objects.js';
import type { LogLine } from '../docker/logs-demux.js';
import type { ResolvedService } from '../docker/target-resolution.js';
import {
  type CommandRunner,
  type ComposeCli,
  type ComposeCommand,
  type ComposeCommandSetting,
  type ComposeProject,
  composeConfigCommand,
  composeEnv,
  composeUpCommand,
  detectComposeCli,
  execFileRunner,
  outputTail,
} from './compose-cli.js';
import {
  composeFileVersion,
  type OverrideFile,
  type OverridePin,
  overridePath,
  ownerUpCommand,
  readOverride,
  renderOverride,
  writeOverride,
} from './compose-override.js';
import {
  COMPOSE_LABEL,
  composeProjectOf,
  composeServiceContainers,
  projectFilesProblem,
} from './compose-project.js';
import { announce, type ExecContext } from './exec-context.js';
import { healthGate } from './health-gate.js';
import { HELM_LABEL } from '../docker/helm-labels.js';
import { lastLogs } from './last-logs.js';
import { shortImageId, tagReleaseImage } from './release-records.js';
import { type ReleaseRecord, releaseTag } from '../releases/release-store.js';
import { inspectActive, nameOf, protectedReason } from './service-state.js';
import { type ExpectedRelease, identityOf, verifyReleaseIdentity } from './verify-release-identity.js';

/**
 * What deploy and rollback of a compose service share: finding the project and the compose CLI,
 * pinning an image in Helm's override and running `up` for the one service, the health gate of the
 * containers compose made, and restoring the release that ran before.
 */

/** How Helm runs the compose CLI (HELM_COMPOSE_COMMAND); tests may hand in the CLI and a runner. */
export interface ComposeSettings {
  /** @defaultValue "auto": `docker compose` where the plugin answers, else `docker-compose` */
  command?: ComposeCommandSetting;
  /** Already detected (or null: none runs here). Detected on first use otherwise. */
  cli?: ComposeCli | null;
  run?: CommandRunner;
  /** Added to compose's environment (e.g. DOCKER_HOST when Helm's differs from the process's). */
  env?: Readonly<Record<string, string>>;
  /** One compose command's bound. @defaultValue 300_000 */
  timeoutMs?: number;
}

/** ExecContext plus the compose settings (read when present; the defaults otherwise). */
export type ComposeExecContext = ExecContext & { compose?: ComposeSettings };

/** Step names announced (ctx.beforeChange) before each compose change, recorded in the intent. */
export const COMPOSE_STEP = {
  /** Helm's override file rewritten to pin the new (or rolled-back-to) release's image. */
  pin: 'compose_pin',
  /** `compose up` of the one service with the project's files and the override. */
  up: 'compose_up',
  /** Undo after a failure: the previous release pinned again, and `up` again. */
  pinRestore: 'compose_pin_restore',
  upRestore: 'compose_up_restore',
} as const;

export const DEFAULT_COMPOSE_TIMEOUT_MS = 300_000;

/** Per process: the CLI does not come and go while Helm runs (a missing one is looked for again). */
const detected = new Map<ComposeCommandSetting, Promise<ComposeCli | null>>();

export async function composeCliOf(ctx: ComposeExecContext): Promise<ComposeCli | null> {
  const s = ctx.compose ?? {};
  if (s.cli !== undefined) return s.cli;
  const setting = s.command ?? 'auto';
  if (s.run) return detectComposeCli(setting, s.run, composeEnv(process.env, s.env));
  let found = detected.get(setting);
  if (!found) {
    found = detectComposeCli(setting, execFileRunner, composeEnv(process.env, s.env));
    detected.set(setting, found);
  }
  const cli = await found;
  if (!cli) detected.delete(setting);
  return cli;
}

/** Everything a compose change needs, found before anything changes. */
export interface ComposeTarget {
  ctx: ComposeExecContext;
  cli: ComposeCli;
  project: ComposeProject;
  overrideFile: string;
  /** The project's own `version` key, repeated in the override (compose v1 wants them equal). */
  version: string | null;
  /** Helm's name for the service (the request's target: its ghost.service label, …): releases, tags. */
  service: string;
  /**
   * The compose service key (`com.docker.compose.service` on its containers): what the override pins
   * and `up` names. It may differ from `service` (a label, a container_name): pinning the label
   * would make compose create a new service beside the owner's.
   */
  composeService: string;
  /** The service's containers now (one-off and kept ones left out), inspected. */
  infos: ContainerInspect[];
  /** How many replicas `up` keeps: the count the service has now. */
  replicas: number;
}

const NOTHING = 'nothing was changed';

/**
 * Looks at a compose service before a change: its containers, protected roles, the project's files
 * where Helm runs, and a compose CLI. Reads, restart and stop do not need any of this (they use the
 * Docker API); a deploy or rollback without the CLI or the files is refused `unavailable`.
 */
export async function prepareComposeTarget(
  ctx: ComposeExecContext,
  service: ResolvedService,
  verb: 'deploy' | 'roll back',
): Promise<{ ok: true; target: ComposeTarget } | { ok: false; outcome: ActionOutcome }> {
  const name = service.name;
  const projectName = service.composeProject ?? '';
  const fail = (code: 'unknown_target' | 'protected_target' | 'unavailable', message: string) => ({
    ok: false as const,
    outcome: { ok: false as const, code, message },
  });
  const infos = (await inspectActive(ctx, service)).filter(
    (i) => i.Config.Labels?.[COMPOSE_LABEL.oneoff] !== 'True',
  );
  const refused = protectedReason(infos);
  if (refused) return fail('protected_target', `${refused}; Helm does not ${verb} it`);
  if (infos.length === 0)
    return fail('unknown_target', `${name} has no container in compose project ${projectName}; ${NOTHING}`);
  const keys = [...new Set(infos.map((i) => i.Config.Labels?.[COMPOSE_LABEL.service] ?? ''))].sort();
  if (keys.length !== 1 || !keys[0])
    return fail(
      'unavailable',
      `Helm cannot ${verb} ${name}: its containers belong to ${keys.length} compose services of project ${projectName} (${keys.map((k) => k || 'none').join(', ')}), and Helm changes one compose service at a time; ${NOTHING}`,
    );
  const composeService = keys[0];
  const overrideFile = overridePath(ctx.memoryDir, projectName);
  const found = composeProjectOf(infos, overrideFile);
  if (!found.ok)
    return fail('unavailable', `Helm cannot ${verb} compose service ${name}: ${found.problem}; ${NOTHING}`);
  const project = found.project;
  const filesProblem = await projectFilesProblem(project);
  if (filesProblem)
    return fail(
      'unavailable',
      `Helm cannot ${verb} compose service ${name}: ${filesProblem}. Helm changes a compose service with the project's own files, so it needs them at the paths the containers' labels name (Helm in a container: mount the stack folder at the same path); ${NOTHING}`,
    );
  const cli = await composeCliOf(ctx);
  if (!cli) {
    const setting = ctx.compose?.command ?? 'auto';
    const tried = setting === 'auto' ? '"docker compose" nor "docker-compose"' : `"${setting}"`;
    return fail(
      'unavailable',
      `Helm cannot ${verb} compose service ${name}: ${setting === 'auto' ? 'neither ' : ''}${tried} runs where Helm runs (HELM_COMPOSE_COMMAND=${setting}); install one (Helm in a container: add it to Helm's image). Reads, restart and stop still work; ${NOTHING}`,
    );
  }
  // Preflight, still before any change: the project's files and Helm's override must read, and
  // compose must accept them merged.
  let version: string | null;
  let override: OverrideFile | null;
  try {
    version = await composeFileVersion(project.configFiles[0]!);
    override = await readOverride(overrideFile);
  } catch (err) {
    return fail(
      'unavailable',
      `Helm cannot ${verb} compose service ${name}: ${(err as Error).message}; ${NOTHING}`,
    );
  }
  const check = await runCompose(
    ctx,
    composeConfigCommand(cli, project, override ? overrideFile : null),
    project,
  );
  if (check.code !== 0)
    return fail(
      'unavailable',
      ctx.redactor.redact(
        `Helm cannot ${verb} compose service ${name}: ${cli.name} does not accept project ${project.name}'s files (${check.error ?? `exit code ${check.code}`}: ${outputTail(check) || 'no output'}); ${NOTHING}`,
      ),
    );
  return {
    ok: true,
    target: {
      ctx,
      cli,
      project,
      overrideFile,
      version,
      service: name,
      composeService,
      infos,
      replicas: infos.length,
    },
  };
}

/** Runs one compose command with Helm's settings (runner, environment, timeout), in the project's folder. */
function runCompose(ctx: ComposeExecContext, command: ComposeCommand, project: ComposeProject) {
  const settings = ctx.compose ?? {};
  return (settings.run ?? execFileRunner)(command, {
    cwd: project.workingDir,
    timeoutMs: settings.timeoutMs ?? DEFAULT_COMPOSE_TIMEOUT_MS,
    env: composeEnv(process.env, settings.env),
  });
}

export type UpResult = { ok: true; command: ComposeCommand } | { ok: false; failure: string };

/**
 * Pins `pin` for the service in Helm's override (the other services' pins stay as they are), then
 * `up` for that one service. Each is announced first.
 */
export async function pinAndUp(
  t: ComposeTarget,
  pin: OverridePin,
  steps: { pin: string; up: string },
  note?: string,
): Promise<UpResult> {
  const { ctx } = t;
  const current: OverrideFile = (await readOverride(t.overrideFile)) ?? { version: null, pins: {} };
  // Keyed by the compose service key: compose merges the override into the owner's service by it.
  const key = t.composeService;
  const next: OverrideFile = { version: t.version, pins: { ...current.pins, [key]: pin } };
  const text = renderOverride(t.project, next, ownerUpCommand(t.cli, t.project, t.overrideFile), {
    ...(await overrideNotes(ctx, next, { [key]: t.service })),
    ...(note ? { [key]: note } : {}),
  });
  await announce(ctx, steps.pin, {
    file: t.overrideFile,
    service: t.service,
    compose_service: key,
    image: pin.image,
  });
  await writeOverride(t.overrideFile, text);

  const command = composeUpCommand(t.cli, t.project, t.overrideFile, key, t.replicas);
  await announce(ctx, steps.up, { command: [command.file, ...command.args] });
  const r = await runCompose(ctx, command, t.project);
  if (r.code === 0) return { ok: true, command };
  const why = r.error ?? `exit code ${r.code}`;
  return {
    ok: false,
    failure: ctx.redactor.redact(`${t.cli.name} up failed (${why}): ${outputTail(r) || 'no output'}`),
  };
}

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

/** Helm's tag for a release's image, tagged again when it is missing or moved; null when the image is gone. */
export async function ensureReleaseTag(ctx: ExecContext, release: ReleaseRecord): Promise<string | null> {
  const tag = releaseTag(release.service, release.id);
  const tagged = await ctx.docker.findImage(tag.ref);
  if (tagged?.Id === release.image_id) return tag.ref;
  if (!(await ctx.docker.findImage(release.image_id))) return null;
  await tagReleaseImage(ctx, release);
  return tag.ref;
}

/** The labels Helm's override puts on a release's containers (write-ahead intent: what made them). */
export function pinLabels(opId: string, release: string, previous: string | null): Record<string, string> {
  return { [HELM_LABEL.op]: opId, [HELM_LABEL.release]: release, [HELM_LABEL.previous]: previous ?? '' };
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
    { image, labels: pinLabels(opId, release.id, release.previous) },
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

/**
 * One comment line per pinned service in the override: "release r2: helm-test/web:2 (sha256:…)".
 * `helmNames` maps a compose key to Helm's name for it where they differ (the others are looked up
 * by their key; an unknown one gets just its release id).
 */
async function overrideNotes(
  ctx: ExecContext,
  file: OverrideFile,
  helmNames: Readonly<Record<string, string>>,
): Promise<Record<string, string>> {
  const notes: Record<string, string> = {};
  for (const [key, pin] of Object.entries(file.pins)) {
    const id = pin.labels[HELM_LABEL.release];
    if (!id) continue;
    const r = await ctx.releases.getRelease(helmNames[key] ?? key, id).catch(() => null);
    notes[key] = r
      ? `release ${id}: ${r.image} (${r.image_id})${r.artifact_id ? `, artifact ${r.artifact_id}` : ''}`
      : `release ${id}`;
  }
  return notes;
}

/** The service's containers after a change, inspected, by name. */
export async function inspectComposeService(t: ComposeTarget, ids: readonly string[]) {
  const infos = await Promise.all(ids.map((id) => t.ctx.docker.inspectContainer(id)));
  return infos.sort((a, b) => nameOf(a).localeCompare(nameOf(b)));
}

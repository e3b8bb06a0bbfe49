import type { ActionOutcome } from '../../actions/action-types.js';
import type { ContainerInspect } from '../../docker/docker-objects.js';
import type { ResolvedService } from '../../docker/target-resolution.js';
import {
  type CommandRunner,
  type ComposeCli,
  type ComposeCommand,
  type ComposeCommandSetting,
  type ComposeProject,
  composeConfigCommand,
  composeEnv,
  detectComposeCli,
  execFileRunner,
  outputTail,
} from './compose-cli.js';
import { composeFileVersion, type OverrideFile, overridePath, readOverride } from './compose-override.js';
import { COMPOSE_LABEL, composeProjectOf, projectFilesProblem } from './compose-project.js';
import type { ExecContext } from '../exec-context.js';
import { inspectActive, protectedReason } from '../target-containers.js';

/**
 * A compose service before a change: how Helm runs the compose CLI, and everything a deploy or
 * rollback needs (the project's files, the CLI, the service's containers), found before anything changes.
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
  const cannot = `Helm cannot ${verb} compose service ${name}`;
  const pre = await preflight(ctx, { cli, project, overrideFile }, cannot);
  if (!pre.ok) return fail('unavailable', pre.message);
  const version = pre.version;
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

/** The project's compose-file version, or why its files (with Helm's override) do not read or merge. */
async function preflight(
  ctx: ComposeExecContext,
  p: { cli: ComposeCli; project: ComposeProject; overrideFile: string },
  cannot: string,
): Promise<{ ok: true; version: string | null } | { ok: false; message: string }> {
  const { cli, project, overrideFile } = p;
  let version: string | null;
  let override: OverrideFile | null;
  try {
    version = await composeFileVersion(project.configFiles[0]!);
    override = await readOverride(overrideFile);
  } catch (err) {
    return { ok: false, message: `${cannot}: ${(err as Error).message}; ${NOTHING}` };
  }
  const check = await runCompose(
    ctx,
    composeConfigCommand(cli, project, override ? overrideFile : null),
    project,
  );
  if (check.code !== 0)
    return {
      ok: false,
      message: ctx.redactor.redact(
        `${cannot}: ${cli.name} does not accept project ${project.name}'s files (${check.error ?? `exit code ${check.code}`}: ${outputTail(check) || 'no output'}); ${NOTHING}`,
      ),
    };
  return { ok: true, version };
}

/** Runs one compose command with Helm's settings (runner, environment, timeout), in the project's folder. */
export function runCompose(ctx: ComposeExecContext, command: ComposeCommand, project: ComposeProject) {
  const settings = ctx.compose ?? {};
  return (settings.run ?? execFileRunner)(command, {
    cwd: project.workingDir,
    timeoutMs: settings.timeoutMs ?? DEFAULT_COMPOSE_TIMEOUT_MS,
    env: composeEnv(process.env, settings.env),
  });
}

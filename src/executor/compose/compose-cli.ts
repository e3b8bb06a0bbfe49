import { execFile } from 'node:child_process';

/**
 * The compose CLI, as plain data. Helm never runs a shell: every compose command is a program and an
 * argument array (Kamal-style: `composeUpCommand` builds it, a test compares it as an array, and
 * `runCompose` hands it to execFile). `docker compose` (v2, the plugin) where it runs, Debian's
 * `docker-compose` (v1, 1.29) otherwise; both take the same flags for what Helm does.
 */
export type ComposeCommandSetting = 'auto' | 'docker compose' | 'docker-compose';

export interface ComposeCli {
  /** What the owner would type: "docker compose" or "docker-compose". */
  name: 'docker compose' | 'docker-compose';
  /** The program execFile runs. */
  file: string;
  /** Arguments before compose's own ("compose" for the plugin). */
  prefix: string[];
  /** `docker compose version` / `docker-compose version --short`, first line. */
  version: string;
}

/** A compose project as its containers' labels describe it. */
export interface ComposeProject {
  /** com.docker.compose.project */
  name: string;
  /** com.docker.compose.project.working_dir */
  workingDir: string;
  /** com.docker.compose.project.config_files, absolute, without Helm's override, in compose's order. */
  configFiles: string[];
  /** com.docker.compose.project.environment_file (compose v2 writes it for --env-file), absolute. */
  envFiles: string[];
}

/** A command as data: execFile(file, args). */
export interface ComposeCommand {
  file: string;
  args: string[];
}

export const V2: Omit<ComposeCli, 'version'> = {
  name: 'docker compose',
  file: 'docker',
  prefix: ['compose'],
};
export const V1: Omit<ComposeCli, 'version'> = { name: 'docker-compose', file: 'docker-compose', prefix: [] };

/**
 * The project's own files, then Helm's override (null: none written yet): the flags every Helm
 * compose command starts with.
 */
export function projectArgs(project: ComposeProject, overrideFile: string | null): string[] {
  const args = ['--project-name', project.name, '--project-directory', project.workingDir];
  for (const f of project.envFiles) args.push('--env-file', f);
  for (const f of project.configFiles) args.push('--file', f);
  if (overrideFile !== null) args.push('--file', overrideFile);
  return args;
}

/**
 * `config --quiet`: compose checks the merged files and says nothing when they are valid. Run before
 * any change, so a project whose files compose refuses is refused with nothing changed.
 */
export function composeConfigCommand(
  cli: Pick<ComposeCli, 'file' | 'prefix'>,
  project: ComposeProject,
  overrideFile: string | null,
): ComposeCommand {
  return {
    file: cli.file,
    args: [...cli.prefix, ...projectArgs(project, overrideFile), 'config', '--quiet'],
  };
}

/**
 * `up` for one service, and only that one: --no-deps (its dependencies are left as they are),
 * --no-build (Helm deploys artifacts, it never builds), --force-recreate (a deploy or a rollback
 * always replaces the containers, even when compose would call them up to date), --scale keeps the
 * replica count the service has now. Never --remove-orphans: Helm removes nothing it was not asked to.
 */
export function composeUpCommand(
  cli: Pick<ComposeCli, 'file' | 'prefix'>,
  project: ComposeProject,
  overrideFile: string,
  service: string,
  replicas: number,
): ComposeCommand {
  return {
    file: cli.file,
    args: [
      ...cli.prefix,
      ...projectArgs(project, overrideFile),
      'up',
      '--detach',
      '--no-deps',
      '--no-build',
      '--force-recreate',
      '--scale',
      `${service}=${Math.max(1, replicas)}`,
      service,
    ],
  };
}

/** The command as one line for people (rollback documents): each argument quoted when it needs it. */
export function commandText(command: ComposeCommand): string {
  return [command.file, ...command.args].map(shellQuote).join(' ');
}

export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export interface CommandResult {
  /** The exit code; null when the process could not start (ENOENT) or was killed. */
  code: number | null;
  stdout: string;
  stderr: string;
  /** Why it did not run or finish, when it did not (ENOENT, timeout). */
  error: string | null;
}

/** How a command is run: execFile in production, a fake in unit tests. */
export type CommandRunner = (
  command: ComposeCommand,
  opts: { cwd?: string; timeoutMs: number; env: NodeJS.ProcessEnv },
) => Promise<CommandResult>;

/** execFile, never a shell; output capped at 4 MiB; killed (SIGKILL) at the timeout. */
export const execFileRunner: CommandRunner = (command, opts) =>
  new Promise((resolve) => {
    execFile(
      command.file,
      command.args,
      {
        shell: false,
        cwd: opts.cwd,
        env: opts.env,
        timeout: opts.timeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: 4 * 1024 * 1024,
        windowsHide: true,
      },
      (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { code?: number | string; killed?: boolean }) | null;
        const timedOut = !!e?.killed;
        resolve({
          code: e ? (typeof e.code === 'number' ? e.code : null) : 0,
          stdout: String(stdout ?? ''),
          stderr: String(stderr ?? ''),
          error: !e
            ? null
            : timedOut
              ? `no end within ${Math.round(opts.timeoutMs / 1000)} s (killed)`
              : typeof e.code === 'string'
                ? `${e.code}: ${command.file} cannot run here`
                : null,
        });
      },
    );
  });

/**
 * The environment compose runs with: what it needs to find the engine and its own settings, never
 * Helm's own secrets (Redis passwords, API keys). A project's variables come from the project's `.env`
 * (compose reads it from --project-directory itself). COMPOSE_FILE and COMPOSE_PROJECT_NAME are left
 * out: the flags name the files and the project.
 */
export function composeEnv(
  from: NodeJS.ProcessEnv,
  extra: Readonly<Record<string, string>> = {},
): NodeJS.ProcessEnv {
  const keep =
    /^(PATH|HOME|USER|LANG|LANGUAGE|TZ|TMPDIR|LC_[A-Z_]+|XDG_[A-Z_]+|DOCKER_[A-Z_]+|COMPOSE_[A-Z_]+)$/;
  const drop = new Set(['COMPOSE_FILE', 'COMPOSE_PROJECT_NAME']);
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(from)) if (v !== undefined && keep.test(k) && !drop.has(k)) env[k] = v;
  return { ...env, ...extra };
}

const DETECT_TIMEOUT_MS = 15_000;

/**
 * Which compose CLI runs here: the setting's, or with "auto" `docker compose` where the plugin
 * answers, else `docker-compose`. Null when none runs (the caller refuses compose deploys then).
 */
export async function detectComposeCli(
  setting: ComposeCommandSetting,
  run: CommandRunner = execFileRunner,
  env: NodeJS.ProcessEnv = composeEnv(process.env),
): Promise<ComposeCli | null> {
  const candidates = setting === 'auto' ? [V2, V1] : setting === 'docker compose' ? [V2] : [V1];
  for (const c of candidates) {
    const args = c === V2 ? [...c.prefix, 'version'] : ['version', '--short'];
    const r = await run({ file: c.file, args }, { timeoutMs: DETECT_TIMEOUT_MS, env });
    if (r.code === 0) return { ...c, version: (r.stdout.trim().split('\n')[0] ?? '').trim() };
  }
  return null;
}

/** The last lines of compose's output, for a failed result (compose writes its progress to stderr). */
export function outputTail(result: CommandResult, lines = 8): string {
  const text = `${result.stderr}\n${result.stdout}`
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== '');
  return text.slice(-lines).join(' | ').slice(0, 1500);
}

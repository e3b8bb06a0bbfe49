import { access, constants, stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import type { ContainerInspect } from '../../docker/docker-objects.js';
import type { ContainerSummary } from '../../docker/docker-ports.js';
import { LABEL } from '../../docker/labels.js';
import { isKeptContainer } from '../../docker/kept-containers.js';
import type { ComposeProject } from './compose-cli.js';

/** The labels compose (v1 and v2) writes on every container of a project. */
export const COMPOSE_LABEL = {
  project: LABEL.composeProject,
  service: LABEL.composeService,
  workingDir: 'com.docker.compose.project.working_dir',
  configFiles: 'com.docker.compose.project.config_files',
  envFile: 'com.docker.compose.project.environment_file',
  oneoff: 'com.docker.compose.oneoff',
} as const;

export type ProjectOf = { ok: true; project: ComposeProject } | { ok: false; problem: string };

/**
 * The project a compose service's containers belong to, from their labels (pure). The newest
 * container's labels win (the last `up` named the files). Relative config file paths (compose v1
 * writes them as given) are relative to the working dir. Helm's own override is left out of the list:
 * Helm adds it last itself.
 */
export function composeProjectOf(infos: readonly ContainerInspect[], overrideFile: string): ProjectOf {
  const newest = [...infos].sort((a, b) => (a.Created < b.Created ? 1 : a.Created > b.Created ? -1 : 0))[0];
  if (!newest) return { ok: false, problem: 'the service has no container to read its compose labels from' };
  const labels = newest.Config.Labels ?? {};
  const name = labels[COMPOSE_LABEL.project];
  const workingDir = labels[COMPOSE_LABEL.workingDir];
  const files = labels[COMPOSE_LABEL.configFiles];
  const container = newest.Name.replace(/^\//, '');
  if (!name) return { ok: false, problem: `${container} has no ${COMPOSE_LABEL.project} label` };
  if (!workingDir || !isAbsolute(workingDir))
    return {
      ok: false,
      problem: `${container} has no absolute ${COMPOSE_LABEL.workingDir} label, so Helm cannot find project ${name}'s folder`,
    };
  if (!files)
    return {
      ok: false,
      problem: `${container} has no ${COMPOSE_LABEL.configFiles} label, so Helm cannot find project ${name}'s compose files`,
    };
  const split = (v: string | undefined) =>
    (v ?? '')
      .split(',')
      .map((f) => f.trim())
      .filter((f) => f !== '' && f !== '-')
      .map((f) => resolve(workingDir, f));
  const ours = resolve(overrideFile);
  const configFiles = [...new Set(split(files))].filter((f) => f !== ours);
  if (configFiles.length === 0)
    return { ok: false, problem: `project ${name} names no compose file of its own (only Helm's override)` };
  return {
    ok: true,
    project: { name, workingDir, configFiles, envFiles: [...new Set(split(labels[COMPOSE_LABEL.envFile]))] },
  };
}

/**
 * Whether Helm can see the project's folder and files at the paths its labels name. Helm in a
 * container sees them only when the owner mounts the stack folders at the same paths.
 * @returns a problem in words, or null when everything is there
 */
export async function projectFilesProblem(project: ComposeProject): Promise<string | null> {
  try {
    if (!(await stat(project.workingDir)).isDirectory())
      return `${project.workingDir} (project ${project.name}'s folder) is not a folder here`;
  } catch {
    return `project ${project.name}'s folder ${project.workingDir} does not exist where Helm runs`;
  }
  for (const f of [...project.configFiles, ...project.envFiles]) {
    try {
      await access(f, constants.R_OK);
    } catch {
      return `project ${project.name}'s file ${f} is not readable where Helm runs`;
    }
  }
  return null;
}

/** The service's containers as compose counts them: not one-off (`compose run`), not kept by Helm. */
export function composeServiceContainers(
  all: readonly ContainerSummary[],
  project: string,
  service: string,
): ContainerSummary[] {
  return all
    .filter(
      (c) =>
        c.labels[COMPOSE_LABEL.project] === project &&
        c.labels[COMPOSE_LABEL.service] === service &&
        c.labels[COMPOSE_LABEL.oneoff] !== 'True' &&
        !isKeptContainer(c),
    )
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Compose project names are lowercase letters, digits, '_' and '-'; anything else stays out of a path. */
export function safeProjectDirName(project: string): string {
  return project.replace(/[^a-z0-9_-]/g, '_') || '_';
}

// Shared by the compose integration tests: what a test's own `compose down` needs to see every
// container Helm made (the project's files plus Helm's override, when Helm wrote one).
import { existsSync } from 'node:fs';
import { overridePath } from '../../../src/executor/compose/compose-override.js';
import { testDocker } from '../../helpers/docker.js';

/** `--file <Helm's override>` when it exists, else nothing. */
export function helmOverrideArgs(memoryDir: string, project: string): string[] {
  const path = memoryDir ? overridePath(memoryDir, project) : '';
  return path && existsSync(path) ? ['--file', path] : [];
}

/**
 * Removes whatever a test's compose project left on the engine: every container labelled with the
 * project (a stray service compose made has no test labels) and its default network.
 */
export async function removeComposeProject(project: string): Promise<void> {
  const left = await testDocker().listContainers({
    all: true,
    filters: { label: [`com.docker.compose.project=${project}`] },
  });
  for (const c of left)
    await testDocker()
      .getContainer(c.Id)
      .remove({ force: true })
      .catch(() => undefined);
  await testDocker()
    .getNetwork(`${project}_default`)
    .remove()
    .catch(() => undefined);
}

// Shared by the compose integration tests: what a test's own `compose down` needs to see every
// container Helm made (the project's files plus Helm's override, when Helm wrote one).
import { existsSync } from 'node:fs';
import { overridePath } from '../../../src/executor/compose-override.js';

/** `--file <Helm's override>` when it exists, else nothing. */
export function helmOverrideArgs(memoryDir: string, project: string): string[] {
  const path = memoryDir ? overridePath(memoryDir, project) : '';
  return path && existsSync(path) ? ['--file', path] : [];
}

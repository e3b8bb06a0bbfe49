import {
  type ComposeCli,
  type ComposeProject,
  commandText,
  composeUpCommand,
  V1,
  V2,
} from './compose-cli.js';
import { ownerUpCommand } from './compose-override.js';
import { type ReleaseRecord, releaseTag } from '../../releases/release-store.js';
import { releasesSection, rollBackWithHelm, writeRollbackFile } from '../rollback-doc.js';

/**
 * `<memoryDir>/rollback/<service>.md` for a compose service: the current and previous releases, the
 * `helm` command that rolls back, the compose commands that do it by hand, and the rule that the
 * owner's own `up` must include Helm's override. Environment variables are never named with values:
 * a compose service's environment stays in the project's files.
 */
export interface ComposeRollbackDocInput {
  service: string;
  /** The compose service key (may differ from Helm's name for the service). */
  composeService: string;
  environment: string;
  event: string;
  at: string;
  current: ReleaseRecord | null;
  previous: ReleaseRecord | null;
  project: ComposeProject;
  overrideFile: string;
  cli: Pick<ComposeCli, 'name' | 'file' | 'prefix'>;
  replicas: number;
}

export function renderComposeRollbackDoc(d: ComposeRollbackDocInput): string {
  const other = d.cli.name === 'docker compose' ? V1 : V2;
  const lines: string[] = [];
  lines.push(`# Rollback procedure: ${d.service} (compose project ${d.project.name})`, '');
  lines.push(`Written by Helm at ${d.at} after the ${d.event}. Environment: ${d.environment}.`, '');
  lines.push(
    `${d.service} is ${d.composeService === d.service ? 'a service' : `service \`${d.composeService}\``} of compose project \`${d.project.name}\` (folder \`${d.project.workingDir}\`; files: ${d.project.configFiles.map((f) => `\`${f}\``).join(', ')}).`,
    "Helm changes it with the project's own files plus its override, which pins the image of each service Helm",
    `deployed or rolled back: \`${d.overrideFile}\`.`,
    '',
    "**Your own `up` must include the override after the project's files**, or it puts the files' own image back:",
    '',
    '```sh',
    commandText(ownerUpCommand(d.cli, d.project, d.overrideFile)),
    '```',
    '',
    `(With ${other.name === 'docker-compose' ? "Debian's `docker-compose` (v1)" : 'the `docker compose` plugin (v2)'}: the same arguments after \`${other.name}\`.)`,
    '',
  );
  lines.push(...releasesSection(d.current, d.previous));
  if (!d.previous || !d.current) return `${lines.join('\n')}\n`;
  const prev = d.previous;
  const tag = releaseTag(d.service, prev.id).ref;
  lines.push(...rollBackWithHelm(d.service, d.environment, prev.id));
  lines.push('## Roll back by hand (compose)', '');
  lines.push(
    `1. ${prev.id}'s image is \`${prev.image_id}\`, tagged by Helm as \`${tag}\`. If that tag is gone: \`docker tag ${prev.image_id} ${tag}\`.`,
    `2. In \`${d.overrideFile}\`, set \`services.${d.composeService}.image\` to \`${tag}\` (and its label \`helm.release\` to \`${prev.id}\`).`,
    `3. Replace the service's containers (only this service: \`--no-deps\`):`,
    '',
    '```sh',
    commandText(composeUpCommand(d.cli, d.project, d.overrideFile, d.composeService, d.replicas)),
    '```',
    '',
    `4. Check it: \`docker ps --filter label=com.docker.compose.project=${d.project.name} --filter label=com.docker.compose.service=${d.composeService}\`, then Helm's health check.`,
    '',
  );
  return `${lines.join('\n')}\n`;
}

export async function writeComposeRollbackDoc(
  memoryDir: string,
  input: ComposeRollbackDocInput,
): Promise<string> {
  return writeRollbackFile(memoryDir, input.service, renderComposeRollbackDoc(input));
}

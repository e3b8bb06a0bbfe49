import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  dockerRunArgv,
  envNamesToSet,
  type ImageDefaults,
  restartPolicyArg,
  shellQuote,
} from './docker-run-argv.js';
import { type ReleaseRecord, writeFileDurably } from '../releases/release-store.js';

/**
 * `<memoryDir>/rollback/<service>.md`: how to go back to the previous release, with Helm and by
 * hand. Written after every deploy and rollback. Environment variables appear by name only: the
 * manual commands pass `-e NAME`, which takes the value from the shell that runs them.
 */
export interface RollbackDocInput {
  service: string;
  environment: string;
  /** What just happened, e.g. "deploy of r2" or "rollback to r1 (deploy of r3 failed)". */
  event: string;
  at: string;
  current: ReleaseRecord | null;
  previous: ReleaseRecord | null;
  /** Replica name → the name of the previous release's kept container, for those that still exist. */
  previousKept: Record<string, string>;
  /** The previous release's image config (its defaults are left to the image); null if unknown. */
  previousImage?: ImageDefaults | null;
}

export function renderRollbackDoc(d: RollbackDocInput): string {
  const lines: string[] = [];
  lines.push(`# Rollback procedure: ${d.service}`, '');
  lines.push(`Written by Helm at ${d.at} after the ${d.event}. Environment: ${d.environment}.`, '');
  lines.push(...releasesSection(d.current, d.previous));
  if (!d.previous || !d.current) return `${lines.join('\n')}\n`;
  const prev = d.previous;
  const cur = d.current;
  lines.push(...rollBackWithHelm(d.service, d.environment, prev.id));
  lines.push('## Roll back by hand (docker CLI)', '');
  lines.push(`1. Stop the current release (${cur.id}) and keep it:`, '', '```sh');
  for (const c of cur.containers) {
    const keptAs = `${c.name}-helm-${cur.id}`;
    lines.push(`docker stop --time 10 ${c.name}`);
    lines.push(`docker rename ${c.name} ${keptAs}`);
    lines.push(`docker update --restart no ${keptAs}`);
  }
  lines.push('```', '');
  if (prev.containers.length > 0 && prev.containers.every((c) => d.previousKept[c.name])) {
    lines.push(`2. Start the kept containers of ${prev.id} under their own names:`, '', '```sh');
    for (const c of prev.containers) {
      const kept = d.previousKept[c.name]!;
      if (kept !== c.name) lines.push(`docker rename ${kept} ${c.name}`);
      const policy = restartPolicyArg(c.config);
      if (policy !== 'no') lines.push(`docker update --restart ${policy} ${c.name}`);
      lines.push(`docker start ${c.name}`);
    }
    lines.push('```', '');
    lines.push(`If a kept container is gone, create it again instead:`, '');
  } else {
    lines.push(`2. The kept containers of ${prev.id} are gone: create them again from its image:`, '');
  }
  const image = d.previousImage ?? null;
  const names = [...new Set(prev.containers.flatMap((c) => envNamesToSet(c.config, image)))];
  if (names.length > 0)
    lines.push(
      `Set these environment variables in your shell first (names only here; the values are in the release record or, for secrets, the secret store): ${names.join(', ')}.`,
      '',
    );
  lines.push('```sh');
  for (const c of prev.containers) lines.push(previousRunArgv(d, c.name).map(shellQuote).join(' '));
  lines.push('```', '');
  lines.push(`3. Check it: \`docker ps --filter name=${d.service}\`, then Helm's health check.`, '');
  return `${lines.join('\n')}\n`;
}

export async function writeRollbackDoc(memoryDir: string, input: RollbackDocInput): Promise<string> {
  return writeRollbackFile(memoryDir, input.service, renderRollbackDoc(input));
}

/** `<memory>/rollback/<service>.md`, written durably: shared by plain and compose services. */
export async function writeRollbackFile(memoryDir: string, service: string, text: string): Promise<string> {
  const dir = join(memoryDir, 'rollback');
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${service.replace(/[^A-Za-z0-9_.-]/g, '_')}.md`);
  await writeFileDurably(path, text);
  return path;
}

/** A release as the rollback document lists it. */
export function describe(r: ReleaseRecord | null): string[] {
  if (!r) return ['None.'];
  return [
    `- release: ${r.id}${r.adopted ? ' (the containers Helm found before its first deploy)' : ''}, created ${r.created_at}`,
    `- image: ${r.image}`,
    `- image id: ${r.image_id}`,
    `- manifest digest: ${r.manifest_digest ?? 'none (a local image)'}`,
    `- artifact_id: ${r.artifact_id ?? 'none'}`,
    `- config digest: ${r.config_digest}`,
    `- Helm's image tag: ${r.release_tag ?? 'none'}`,
    `- containers: ${r.containers.map((c) => `${c.name} (${c.id.slice(0, 12)})`).join(', ') || 'none'}`,
    `- request_id: ${r.request_id ?? 'none'}; approval_id: ${r.approval_id ?? 'none'}`,
  ];
}

/** The argv of the line that creates the previous release's replica `name` again (tests run it). */
export function previousRunArgv(d: RollbackDocInput, name: string): string[] {
  const prev = d.previous;
  const c = prev?.containers.find((x) => x.name === name);
  if (!prev || !c) throw new Error(`the previous release has no replica ${name}`);
  return dockerRunArgv(c.name, prev.release_tag ?? prev.image_id, c.config, d.previousImage ?? null);
}

/** The "Roll back with Helm" section both rollback documents (plain and compose) open with. */
export function rollBackWithHelm(service: string, environment: string, to: string): string[] {
  return [
    '## Roll back with Helm',
    '',
    '```sh',
    `helm request rollback ${service} --environment ${environment} --reason "roll back to ${to}" --params '{"to":"${to}"}'`,
    '```',
    '',
    `(\`npm run helm -- request …\` from Helm's folder.) Without \`to\`, Helm rolls back to the release the current one replaced.`,
    '',
  ];
}

/** The current and previous releases, described; when there is none to go back to, it says so. */
export function releasesSection(current: ReleaseRecord | null, previous: ReleaseRecord | null): string[] {
  const lines = [
    '## Current release',
    '',
    ...describe(current),
    '',
    '## Previous release',
    '',
    ...describe(previous),
    '',
  ];
  if (!previous || !current) lines.push('There is no earlier release to roll back to.', '');
  return lines;
}

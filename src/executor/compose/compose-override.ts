import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isMap, isScalar, parseDocument } from 'yaml';
import { type ComposeCommand, type ComposeProject, commandText, projectArgs } from './compose-cli.js';
import { safeProjectDirName } from './compose-project.js';
import { writeFileDurably } from '../../releases/release-store.js';

/**
 * Helm's override file for a compose project: `<memoryDir>/compose/<project>/helm-override.yml`. It
 * pins, per service Helm deployed or rolled back, the image (Helm's release tag, which names exactly
 * one image id) and labels the containers with the release. The project's own files stay the source
 * of truth for everything else; compose merges this file last. Helm rewrites the whole file on every
 * change, from data (`OverrideFile`), so it is always well-formed and deterministic.
 */
export interface OverridePin {
  /** `helm-release/<service>-<hash>:<release>` */
  image: string;
  /** helm.op, helm.release, helm.previous. */
  labels: Record<string, string>;
}

export interface OverrideFile {
  /** The project's own `version` key (compose v1 refuses files whose versions differ); null: none. */
  version: string | null;
  /** By service name. */
  pins: Record<string, OverridePin>;
}

export class OverrideFileError extends Error {
  constructor(path: string, detail: string) {
    super(`Helm's compose override ${path} cannot be read (${detail})`);
    this.name = this.constructor.name;
  }
}

export function overridePath(memoryDir: string, project: string): string {
  return join(memoryDir, 'compose', safeProjectDirName(project), 'helm-override.yml');
}

/** The override's text (pure). `notes` adds a comment line above a service ("release r2: …"). */
export function renderOverride(
  project: ComposeProject,
  file: OverrideFile,
  ownerUp: ComposeCommand,
  notes: Readonly<Record<string, string>> = {},
): string {
  const q = (s: string) => JSON.stringify(s); // a JSON string is a YAML double-quoted scalar
  const oneLine = (s: string) => s.replace(/[\r\n]+/g, ' ');
  const lines = [
    `# Helm's override for compose project ${oneLine(project.name)}: it pins the image of each service Helm`,
    '# deployed or rolled back. Helm rewrites this file on every deploy and rollback; do not edit it.',
    "# Include it after the project's own files in your own `up`, or `up` puts the files' images back:",
    `#   ${oneLine(commandText(ownerUp))}`,
  ];
  if (file.version !== null) lines.push(`version: ${q(file.version)}`);
  const services = Object.keys(file.pins).sort();
  if (services.length === 0) {
    lines.push('services: {}');
    return `${lines.join('\n')}\n`;
  }
  lines.push('services:');
  for (const service of services) {
    const pin = file.pins[service]!;
    const note = notes[service];
    if (note) lines.push(`  # ${oneLine(service)}: ${oneLine(note)}`);
    lines.push(`  ${q(service)}:`, `    image: ${q(pin.image)}`);
    const labels = Object.keys(pin.labels).sort();
    if (labels.length > 0) {
      lines.push('    labels:');
      for (const k of labels) lines.push(`      ${q(k)}: ${q(pin.labels[k]!)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Reads the override's data back (pure): what Helm wrote, or OverrideFileError. */
export function parseOverride(text: string, path: string): OverrideFile {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) throw new OverrideFileError(path, doc.errors[0]!.message.split('\n')[0]!);
  const data = doc.toJS() as unknown;
  if (!data || typeof data !== 'object' || Array.isArray(data))
    throw new OverrideFileError(path, 'not a YAML mapping');
  const root = data as Record<string, unknown>;
  const version = root['version'] === undefined || root['version'] === null ? null : String(root['version']);
  const services = (root['services'] ?? {}) as unknown;
  if (!services || typeof services !== 'object' || Array.isArray(services))
    throw new OverrideFileError(path, '"services" is not a mapping');
  const pins: Record<string, OverridePin> = {};
  for (const [service, raw] of Object.entries(services as Record<string, unknown>)) {
    const s = raw as { image?: unknown; labels?: unknown } | null;
    if (!s || typeof s.image !== 'string')
      throw new OverrideFileError(path, `service ${service} has no image`);
    const labels: Record<string, string> = {};
    if (s.labels && typeof s.labels === 'object' && !Array.isArray(s.labels))
      for (const [k, v] of Object.entries(s.labels as Record<string, unknown>)) labels[k] = String(v);
    pins[service] = { image: s.image, labels };
  }
  return { version, pins };
}

/** The override as it is on disk, or null when Helm has written none for this project yet. */
export async function readOverride(path: string): Promise<OverrideFile | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new OverrideFileError(path, (err as NodeJS.ErrnoException).code ?? (err as Error).message);
  }
  return parseOverride(text, path);
}

export async function writeOverride(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFileDurably(path, text);
}

/**
 * The `version` key of the project's first compose file (null when it has none). Compose v1 refuses
 * to merge files whose versions differ, so the override repeats it; compose v2 ignores it.
 */
export async function composeFileVersion(configFile: string): Promise<string | null> {
  // failsafe: every scalar stays the string it was written as (`3.10` is not the number 3.1).
  const doc = parseDocument(await readFile(configFile, 'utf8'), { prettyErrors: false, schema: 'failsafe' });
  if (doc.errors.length > 0)
    throw new Error(`${configFile} is not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
  if (!isMap(doc.contents)) return null;
  const pair = doc.contents.items.find((p) => isScalar(p.key) && p.key.value === 'version');
  if (!pair || !isScalar(pair.value) || pair.value.value === null) return null;
  return String(pair.value.value);
}

/** `up --detach` of the whole project with its files and Helm's override: the owner's own `up`. */
export function ownerUpCommand(
  cli: { file: string; prefix: string[] },
  project: ComposeProject,
  overrideFile: string,
): ComposeCommand {
  return { file: cli.file, args: [...cli.prefix, ...projectArgs(project, overrideFile), 'up', '--detach'] };
}

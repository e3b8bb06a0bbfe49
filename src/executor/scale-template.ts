import { mkdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { RestartPolicy } from '../docker/docker-objects.js';
import { writeFileDurably } from '../releases/release-store.js';

/**
 * A service scaled to 0 keeps its last replica, stopped, as the template a later scale up starts
 * from. Its restart policy is set to "no" while it is the template (an engine restart would
 * otherwise bring an "always" container back), so the policy it had is written here first
 * (write-ahead): `<memoryDir>/scale/<service>.json`. Helm's own bookkeeping, never the owner's data.
 */
export interface ScaleTemplateRecord {
  service: string;
  /** The stopped replica kept as the template. */
  template_id: string;
  template_name: string;
  /** Its restart policy before Helm disarmed it. */
  restart_policy: RestartPolicy;
  at: string;
  op_id: string | null;
}

function fileOf(memoryDir: string, service: string): string {
  return join(memoryDir, 'scale', `${service.replace(/[^A-Za-z0-9_.-]/g, '_')}.json`);
}

export async function readScaleTemplate(
  memoryDir: string,
  service: string,
): Promise<ScaleTemplateRecord | null> {
  try {
    const parsed = JSON.parse(await readFile(fileOf(memoryDir, service), 'utf8')) as ScaleTemplateRecord;
    return parsed && typeof parsed.template_id === 'string' && parsed.service === service ? parsed : null;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || err instanceof SyntaxError) return null;
    throw err;
  }
}

export async function writeScaleTemplate(memoryDir: string, record: ScaleTemplateRecord): Promise<void> {
  await mkdir(join(memoryDir, 'scale'), { recursive: true });
  await writeFileDurably(fileOf(memoryDir, record.service), `${JSON.stringify(record, null, 2)}\n`);
}

/** The template runs again: its record is spent (Helm's own bookkeeping file, removed like an intent). */
export async function clearScaleTemplate(memoryDir: string, service: string): Promise<void> {
  await unlink(fileOf(memoryDir, service)).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}

/** Whether `containerId` is the service's scale template now (scaled to 0, kept stopped). */
export async function isScaleTemplate(
  memoryDir: string,
  service: string,
  containerId: string,
): Promise<boolean> {
  return (await readScaleTemplate(memoryDir, service))?.template_id === containerId;
}

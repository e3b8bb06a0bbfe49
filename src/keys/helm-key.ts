import { createHmac, randomBytes } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Helm's own secret key: shared by every Helm process on the host through the memory folder,
 * created once, never sent anywhere. It keys the run-log chain, the config HMACs in plans and the
 * HMACs of secret values. Losing it makes old run logs unverifiable, so it is never rotated silently.
 */
export const HELM_KEY_FILE = 'helm.key';
const KEY_BYTES = 32;

export async function loadOrCreateHelmKey(memoryDir: string): Promise<Buffer> {
  await mkdir(memoryDir, { recursive: true });
  const path = join(memoryDir, HELM_KEY_FILE);
  const existing = await readKey(path);
  if (existing) return existing;

  // Create atomically: write a private temp file, then link() it into place, which fails if another
  // process won the race; then everyone reads the winner's key.
  const tmp = join(memoryDir, `.${HELM_KEY_FILE}.${process.pid}.${randomBytes(4).toString('hex')}`);
  await writeFile(tmp, `${randomBytes(KEY_BYTES).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await link(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    await unlink(tmp);
  }
  const key = await readKey(path);
  if (!key) throw new Error(`${path} could not be created`);
  return key;
}

async function readKey(path: string): Promise<Buffer | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const hex = text.trim();
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw new Error(`${path} is not a Helm key (64 lowercase hex characters); refusing to replace it`);
  }
  return Buffer.from(hex, 'hex');
}

/** A separate key per purpose, so a MAC made for one use can never be replayed as another. */
export function deriveKey(
  helmKey: Buffer,
  purpose: 'run-log' | 'config-hmac' | 'secret-hmac' | 'internal-job',
): Buffer {
  return createHmac('sha256', helmKey).update(`helm:${purpose}`).digest();
}

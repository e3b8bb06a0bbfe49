import { open, rename } from 'node:fs/promises';

/**
 * Writes `data` to a temp file (created with `mode`), syncs it and renames it over `path`: a crash
 * leaves the old file or the new one, never a torn one. The folder is not synced here: callers that
 * need the rename itself to survive a crash sync it after (releases, the run log's rotation).
 */
export async function writeSyncRename(
  path: string,
  data: string | Uint8Array,
  opts: { temp: string; mode: number },
): Promise<void> {
  const handle = await open(opts.temp, 'w', opts.mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(opts.temp, path);
}

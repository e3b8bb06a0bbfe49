import { type FSWatcher, watch } from 'node:fs';
import { type Keyring, parseKeyring } from '../approval/index.js';
import { type Config, readWardenKeyFile } from '../config/config.js';
import type { Logger } from '../log/logger.js';

/**
 * Warden's public keys, rotated without a restart: the key file (or folder) is read again when it
 * changes and on SIGHUP. A removed key's decisions are refused from the next read on. A file that no
 * longer holds a valid key set leaves Helm with no keys at all (default is no: nothing verifies)
 * until it is fixed; that is reported.
 */
export interface WardenKeys {
  keyring(): Keyring;
  reload(why: string): void;
  close(): void;
}

export function makeWardenKeys(
  config: Pick<Readonly<Config>, 'wardenPublicKeysPem' | 'wardenPublicKeyFile'>,
  logger: Logger,
  onProblem: (message: string) => void,
): WardenKeys {
  let current: Keyring = config.wardenPublicKeysPem ? parseKeyring(config.wardenPublicKeysPem) : new Map();
  const file = config.wardenPublicKeyFile;
  let watcher: FSWatcher | null = null;
  let timer: NodeJS.Timeout | null = null;

  const reload = (why: string) => {
    if (!file) return;
    try {
      const next = parseKeyring(readWardenKeyFile(file));
      const removed = [...current.keys()].filter((id) => !next.has(id));
      const added = [...next.keys()].filter((id) => !current.has(id));
      current = next;
      if (removed.length || added.length) logger.info({ added, removed, why }, "Warden's keys reloaded");
    } catch (err) {
      current = new Map();
      const message = `Warden's key file ${file} could not be read (${(err as Error).message}): no decision verifies until it is fixed`;
      logger.error({ why }, message);
      onProblem(message);
    }
  };

  if (file) {
    try {
      // Editors replace files rather than write them in place: any event means "read it again".
      watcher = watch(file, () => {
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => reload('file changed'), 100);
      });
      watcher.on('error', () => undefined);
    } catch {
      logger.warn({ file }, "cannot watch Warden's key file; send SIGHUP after rotating keys");
    }
  }

  return {
    keyring: () => current,
    reload,
    close() {
      watcher?.close();
      if (timer) clearTimeout(timer);
    },
  };
}

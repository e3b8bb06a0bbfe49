import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { MIN_SECRET_LENGTH, type Redactor } from '../log/redactor.js';

/**
 * The owner's secret store: a folder with one file per secret (the file name is the secret's name,
 * the content its value, mode 0600). Helm reads values only to use them and to redact them;
 * a value never reaches Redis, a log, a result, an alert, a plan or the run log.
 */
export const SECRET_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export interface SecretStore {
  /** Reads one secret now (values may change between plan and execution). */
  read(name: string): Promise<string>;
  /** Names and problems, never values: for doctor and for start-up warnings. */
  scan(): Promise<{ names: string[]; problems: string[] }>;
}

export class SecretNotFoundError extends Error {
  constructor(readonly secretName: string) {
    super(`secret "${secretName}" is not in the secret store`);
    this.name = this.constructor.name;
  }
}

export function makeSecretStore(dir: string | undefined, redactor: Redactor): SecretStore {
  async function read(name: string): Promise<string> {
    if (!dir || !SECRET_NAME.test(name)) throw new SecretNotFoundError(name);
    let raw: string;
    try {
      raw = await readFile(join(dir, name), 'utf8');
    } catch {
      throw new SecretNotFoundError(name);
    }
    // Files written with `echo` end in a newline that is not part of the secret.
    const value = raw.replace(/\r?\n$/, '');
    redactor.add(value);
    return value;
  }

  async function scan(): Promise<{ names: string[]; problems: string[] }> {
    if (!dir) return { names: [], problems: [] };
    const names: string[] = [];
    const problems: string[] = [];
    for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      if (!entry.isFile() || entry.name.startsWith('.')) continue;
      if (!SECRET_NAME.test(entry.name)) {
        problems.push(`secret file "${entry.name.slice(0, 40)}" has a name Helm cannot reference; ignored`);
        continue;
      }
      const st = await stat(join(dir, entry.name));
      if ((st.mode & 0o077) !== 0) {
        problems.push(
          `secret "${entry.name}" is readable by others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it`,
        );
      }
      const value = await read(entry.name);
      if (value.length < MIN_SECRET_LENGTH) {
        problems.push(
          `secret "${entry.name}" is shorter than ${MIN_SECRET_LENGTH} characters and cannot be redacted safely`,
        );
      }
      names.push(entry.name);
    }
    return { names, problems };
  }

  return { read, scan };
}

// `helm keys generate`: a Warden key pair as PEM files. The private key is created with O_EXCL and
// mode 0600, so an existing key is never overwritten (a lost Warden key cannot be recovered, and one
// overwritten by accident would silently invalidate every configured copy of its public half).
import { generateKeyPairSync } from 'node:crypto';
import { type FileHandle, mkdir, open, unlink } from 'node:fs/promises';
import path from 'node:path';
import { keyIdOf } from '../approval/key-id.js';

export const KEY_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export interface GeneratedKeyFiles {
  keyId: string;
  privateKeyPath: string;
  publicKeyPath: string;
}

export class KeyFileError extends Error {
  /** For `--json`'s error document. */
  readonly code = 'key_file';
  constructor(message: string) {
    super(message);
    this.name = this.constructor.name;
  }
}

/** Writes `<name>.key.pem` (PKCS#8, 0600) and `<name>.pub.pem` (SPKI) in `dir`; never overwrites. */
export async function generateKeyFiles(options: { dir: string; name?: string }): Promise<GeneratedKeyFiles> {
  const name = options.name ?? 'warden';
  if (!KEY_NAME_PATTERN.test(name)) {
    throw new KeyFileError(`--name ${JSON.stringify(name)}: 1-64 letters, digits, "_", "." or "-"`);
  }
  const dir = path.resolve(options.dir);
  // A folder made here holds a private key: only its owner may list it.
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const privateKeyPath = path.join(dir, `${name}.key.pem`);
  const publicKeyPath = path.join(dir, `${name}.pub.pem`);

  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }) as string;

  const privateFile = await createNew(privateKeyPath, 0o600);
  let publicFile: FileHandle;
  try {
    publicFile = await createNew(publicKeyPath, 0o644);
  } catch (error) {
    // Only the file this call just created is removed: a pair is written whole or not at all.
    await privateFile.close();
    await unlink(privateKeyPath);
    throw error;
  }
  try {
    await privateFile.writeFile(privatePem);
    await privateFile.sync();
    await publicFile.writeFile(publicPem);
    await publicFile.sync();
  } catch (error) {
    await Promise.all([privateFile.close(), publicFile.close()]);
    await Promise.all([unlink(privateKeyPath), unlink(publicKeyPath)]);
    throw error;
  }
  await Promise.all([privateFile.close(), publicFile.close()]);
  return { keyId: keyIdOf(publicKey), privateKeyPath, publicKeyPath };
}

async function createNew(file: string, mode: number): Promise<FileHandle> {
  try {
    return await open(file, 'wx', mode);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new KeyFileError(
        `${file} already exists: refusing to overwrite a key (choose another --name or --out)`,
      );
    }
    throw error;
  }
}

/** What `helm keys generate` prints: the key id first, then where each half went. */
export function describeKeyFiles(files: GeneratedKeyFiles): string {
  return [
    `key_id: ${files.keyId}`,
    `private key: ${files.privateKeyPath} (Warden's secret: keep it there, never give it to Helm)`,
    `public key:  ${files.publicKeyPath} (give this one to Helm: HELM_WARDEN_PUBLIC_KEY_FILE)`,
    '',
  ].join('\n');
}

/** `helm keys generate --json`: the same three facts, one JSON document. */
export function keyFilesJson(files: GeneratedKeyFiles): string {
  return `${JSON.stringify({
    key_id: files.keyId,
    private_key_path: files.privateKeyPath,
    public_key_path: files.publicKeyPath,
  })}\n`;
}

// `helm keys generate`: a usable Ed25519 pair, the private half 0600 and never overwritten.
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { keyIdOf, parseKeyring } from '../../../src/approval/index.js';
import { describeKeyFiles, generateKeyFiles, KeyFileError } from '../../../src/cli/keys-command.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'helm-keys-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('generateKeyFiles', () => {
  it('writes a PKCS#8 private key (0600) and its SPKI public key, named by key_id', async () => {
    const files = await generateKeyFiles({ dir });
    expect(files.privateKeyPath).toBe(path.join(dir, 'warden.key.pem'));
    expect(files.publicKeyPath).toBe(path.join(dir, 'warden.pub.pem'));
    expect((await stat(files.privateKeyPath)).mode & 0o777).toBe(0o600);

    const privatePem = await readFile(files.privateKeyPath, 'utf8');
    const publicPem = await readFile(files.publicKeyPath, 'utf8');
    expect(privatePem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(publicPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    const privateKey = createPrivateKey(privatePem);
    const publicKey = createPublicKey(publicPem);
    expect(privateKey.asymmetricKeyType).toBe('ed25519');
    // The two halves belong together, and Helm's keyring takes the public one under the same id.
    const message = Buffer.from('plan');
    expect(verify(null, message, publicKey, sign(null, message, privateKey))).toBe(true);
    expect(files.keyId).toBe(keyIdOf(publicKey));
    expect(files.keyId).toMatch(/^[0-9a-f]{16}$/);
    expect([...parseKeyring(publicPem).keys()]).toEqual([files.keyId]);
    expect(describeKeyFiles(files).split('\n')[0]).toBe(`key_id: ${files.keyId}`);
  });

  it('makes a missing folder private, and takes another name', async () => {
    const nested = path.join(dir, 'a', 'keys');
    const files = await generateKeyFiles({ dir: nested, name: 'warden-2026.b' });
    expect(files.privateKeyPath).toBe(path.join(nested, 'warden-2026.b.key.pem'));
    expect((await stat(nested)).mode & 0o777).toBe(0o700);
  });

  it('never overwrites a private key', async () => {
    const first = await generateKeyFiles({ dir });
    const before = await readFile(first.privateKeyPath, 'utf8');
    await expect(generateKeyFiles({ dir })).rejects.toThrow(KeyFileError);
    await expect(generateKeyFiles({ dir })).rejects.toThrow(/already exists: refusing to overwrite/);
    expect(await readFile(first.privateKeyPath, 'utf8')).toBe(before);
  });

  it('writes a pair whole or not at all: an existing public file leaves no private key behind', async () => {
    await writeFile(path.join(dir, 'warden.pub.pem'), 'someone else’s key');
    await expect(generateKeyFiles({ dir })).rejects.toThrow(/warden\.pub\.pem already exists/);
    await expect(stat(path.join(dir, 'warden.key.pem'))).rejects.toThrow(/ENOENT/);
    expect(await readFile(path.join(dir, 'warden.pub.pem'), 'utf8')).toBe('someone else’s key');
  });

  it('refuses a name that is a path or not a plain file stem', async () => {
    for (const name of ['../x', 'a/b', '', '.hidden', 'a b', 'x'.repeat(65)]) {
      await expect(generateKeyFiles({ dir, name }), name).rejects.toThrow(/--name/);
    }
  });
});

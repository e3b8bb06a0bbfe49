// Warden's public keys, as Helm is configured with them: one or more SPKI PEM blocks (several during a
// rotation). A keyring that silently skipped a block would turn a typo into "every decision refused"
// or, worse, a private key pasted into config into a key Helm logs: so every oddity is an error.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { keyIdOf } from './key-id.js';

/** key_id → Ed25519 public key. */
export type Keyring = ReadonlyMap<string, KeyObject>;

export class KeyringError extends Error {
  constructor(message: string) {
    super(message);
    this.name = this.constructor.name;
  }
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END ([A-Z0-9 ]+)-----/g;

/** Parse every PEM block of `pemText` into a keyring. Text outside the blocks (comments) is ignored. */
export function parseKeyring(pemText: string): Map<string, KeyObject> {
  const keyring = new Map<string, KeyObject>();
  let index = 0;
  for (const match of pemText.matchAll(PEM_BLOCK)) {
    index++;
    const [block, label, , endLabel] = match as unknown as [string, string, string, string];
    if (label !== endLabel)
      throw new KeyringError(`PEM block ${index}: BEGIN ${label} does not match END ${endLabel}`);
    if (label.includes('PRIVATE')) {
      throw new KeyringError(
        `PEM block ${index} is a private key: the keyring holds Warden's public keys only`,
      );
    }
    if (label !== 'PUBLIC KEY') {
      throw new KeyringError(`PEM block ${index} is "${label}": expected "PUBLIC KEY" (SPKI)`);
    }
    let key: KeyObject;
    try {
      key = createPublicKey({ key: block, format: 'pem' });
    } catch {
      throw new KeyringError(`PEM block ${index} is not a valid SPKI public key`);
    }
    if (key.asymmetricKeyType !== 'ed25519') {
      throw new KeyringError(
        `PEM block ${index} is a ${key.asymmetricKeyType ?? 'unknown'} key: Warden keys must be Ed25519`,
      );
    }
    keyring.set(keyIdOf(key), key);
  }
  if (index === 0)
    throw new KeyringError('no PEM block found: expected one or more "-----BEGIN PUBLIC KEY-----" blocks');
  return keyring;
}

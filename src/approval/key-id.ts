import { createPublicKey, type KeyObject } from 'node:crypto';
import { sha256Hex } from '../contracts/canonical.js';

/**
 * A key's id on the bus: the first 16 lowercase hex characters of the SHA-256 of its SPKI DER
 * encoding. Given a private key, the id of its public half.
 */
export function keyIdOf(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return sha256Hex(der).slice(0, 16);
}

import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KeyringError, keyIdOf, parseKeyring } from '../../../src/approval/index.js';

const pem = (k: { export: (o: { type: 'spki'; format: 'pem' }) => string | Buffer }) =>
  k.export({ type: 'spki', format: 'pem' }).toString();

describe('parseKeyring', () => {
  const a = generateKeyPairSync('ed25519');
  const b = generateKeyPairSync('ed25519');

  it('reads one or more SPKI PEM blocks, keyed by key id, ignoring text between them', () => {
    const keyring = parseKeyring(`# warden 2026\n${pem(a.publicKey)}\n# next\n${pem(b.publicKey)}`);
    expect([...keyring.keys()].sort()).toEqual([keyIdOf(a.publicKey), keyIdOf(b.publicKey)].sort());
    expect(keyring.get(keyIdOf(a.publicKey))?.equals(a.publicKey)).toBe(true);
  });

  it('key ids are 16 hex of the SHA-256 of the SPKI DER, the same from either half of a pair', () => {
    expect(keyIdOf(a.publicKey)).toMatch(/^[0-9a-f]{16}$/);
    expect(keyIdOf(a.privateKey)).toBe(keyIdOf(a.publicKey));
  });

  it('refuses non-Ed25519 keys, private keys, junk and nothing', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(() => parseKeyring(pem(rsa.publicKey))).toThrow(
      new KeyringError('PEM block 1 is a rsa key: Warden keys must be Ed25519'),
    );
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    expect(() => parseKeyring(pem(a.publicKey) + pem(ec.publicKey))).toThrow(/PEM block 2 is a ec key/);
    const priv = a.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => parseKeyring(priv)).toThrow(/is a private key: the keyring holds Warden's public keys only/);
    expect(() => parseKeyring('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----')).toThrow(
      'PEM block 1 is not a valid SPKI public key',
    );
    expect(() => parseKeyring('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----')).toThrow(
      /expected "PUBLIC KEY"/,
    );
    expect(() => parseKeyring('')).toThrow(/no PEM block found/);
  });
});

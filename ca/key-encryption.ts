/**
 * Private keys at rest: AES-256-GCM under the key-encryption key (KEK). The record id is bound as
 * additional authenticated data, so a sealed key copied onto another row fails to open.
 * Format: `v1.<iv>.<ciphertext>.<tag>` (base64url parts).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 'v1';

export function sealPrivateKey(kek: Buffer, plaintext: Uint8Array, recordId: string): string {
  assertKek(kek);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', kek, iv);
  cipher.setAAD(Buffer.from(recordId, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return [VERSION, iv, ciphertext, cipher.getAuthTag()].map((part) => (typeof part === 'string' ? part : part.toString('base64url'))).join('.');
}

export function openPrivateKey(kek: Buffer, sealed: string, recordId: string): Buffer {
  assertKek(kek);
  const [version, iv, ciphertext, tag] = sealed.split('.');
  if (version !== VERSION || !iv || !ciphertext || !tag) throw new Error('sealed key has an unknown format');
  const decipher = createDecipheriv('aes-256-gcm', kek, Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(recordId, 'utf8'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  try {
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]);
  } catch {
    throw new Error(`cannot decrypt the private key of ${recordId}: wrong key-encryption key or tampered record`);
  }
}

function assertKek(kek: Buffer): void {
  if (kek.length !== 32) throw new Error(`the key-encryption key must be 32 bytes, got ${kek.length}`);
}

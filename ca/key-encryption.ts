/**
 * Private keys at rest: AES-256-GCM under the key-encryption key (KEK). The record id is bound as
 * additional authenticated data, so a sealed key copied onto another row fails to open.
 * Format: `v1.<iv>.<ciphertext>.<tag>` (base64url parts).
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const TAG_BYTES = 16;

export function sealPrivateKey(kek: Buffer, plaintext: Uint8Array, recordId: string): string {
  assertKek(kek);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', kek, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(recordId, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return [VERSION, iv, ciphertext, cipher.getAuthTag()].map((part) => (typeof part === 'string' ? part : part.toString('base64url'))).join('.');
}

export function openPrivateKey(kek: Buffer, sealed: string, recordId: string): Buffer {
  assertKek(kek);
  const parts = sealed.split('.');
  const [version, iv, ciphertext, tag] = parts;
  if (parts.length !== 4 || version !== VERSION || !iv || !ciphertext || !tag) throw new Error('sealed key has an unknown format');
  const authTag = Buffer.from(tag, 'base64url');
  // GCM accepts tags as short as 4 bytes; only the full 16-byte tag gives the intended protection.
  if (authTag.length !== TAG_BYTES) throw new Error(`cannot decrypt the private key of ${recordId}: tampered record`);
  try {
    const decipher = createDecipheriv('aes-256-gcm', kek, Buffer.from(iv, 'base64url'), { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(recordId, 'utf8'));
    decipher.setAuthTag(authTag);
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]);
  } catch {
    throw new Error(`cannot decrypt the private key of ${recordId}: wrong key-encryption key or tampered record`);
  }
}

function assertKek(kek: Buffer): void {
  if (kek.length !== 32) throw new Error(`the key-encryption key must be 32 bytes, got ${kek.length}`);
}

/**
 * The key that seals destination secrets (webhook HMAC secrets), derived from the KEK with HKDF so
 * the API can seal them without holding the key that opens CA and certificate private keys.
 */
export function deriveSecretsKey(kek: Buffer): Buffer {
  assertKek(kek);
  return Buffer.from(hkdfSync('sha256', kek, Buffer.alloc(0), 'certflow destination secrets v1', 32));
}

/** Additional authenticated data of a destination secret: bound to its certificate and position. */
export function destinationSecretId(certificateId: string, destinationIndex: number): string {
  return `${certificateId}/destinations/${destinationIndex}`;
}

/**
 * Private keys at rest: AES-256-GCM under the key-encryption key (KEK). The record id is bound as
 * additional authenticated data, so a sealed key copied onto another row fails to open.
 *
 * Formats (base64url parts):
 * - `v2.<kekId>.<iv>.<ciphertext>.<tag>` — written today; `kekId` (kekId()) names the KEK that
 *   sealed it, so while a rotation runs the opener picks the right one of the configured KEKs.
 * - `v1.<iv>.<ciphertext>.<tag>` — written before KEK ids existed; opened by trying each KEK.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const TAG_BYTES = 16;

/**
 * The KEKs a process holds: `current` seals, and every one of them opens. `previous` is non-empty
 * only while a rotation runs (`certflow kek rotate`): blobs still sealed under the old KEK stay open.
 */
export interface KekRing {
  current: Buffer;
  previous: readonly Buffer[];
}

/** Where a single KEK is accepted, a ring is too (the worker passes its ring everywhere). */
export type KeyEncryptionKeys = Buffer | KekRing;

export function kekRing(current: Buffer, previous: readonly Buffer[] = []): KekRing {
  for (const kek of [current, ...previous]) assertKek(kek);
  return { current, previous: previous.filter((kek) => !kek.equals(current)) };
}

export function asKekRing(keys: KeyEncryptionKeys): KekRing {
  return Buffer.isBuffer(keys) ? kekRing(keys) : keys;
}

/** Every KEK of the ring, current first. */
export function allKeks(keys: KeyEncryptionKeys): Buffer[] {
  const ring = asKekRing(keys);
  return [ring.current, ...ring.previous];
}

/**
 * A KEK's public name: 16 hex characters derived with HKDF (a label of its own), so it says which
 * KEK sealed a blob without revealing anything about the key.
 */
/** Derived once per KEK buffer: every open of a sealed key compares against these. */
const kekIds = new WeakMap<Buffer, string>();

export function kekId(kek: Buffer): string {
  const known = kekIds.get(kek);
  if (known) return known;
  assertKek(kek);
  const id = Buffer.from(hkdfSync('sha256', kek, Buffer.alloc(0), 'certflow kek id v1', 8)).toString('hex');
  kekIds.set(kek, id);
  return id;
}

export function sealPrivateKey(keys: KeyEncryptionKeys, plaintext: Uint8Array, recordId: string): string {
  const kek = asKekRing(keys).current;
  assertKek(kek);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', kek, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(recordId, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return ['v2', kekId(kek), ...[iv, ciphertext, cipher.getAuthTag()].map((part) => part.toString('base64url'))].join('.');
}

interface ParsedSealedKey {
  /** Null for `v1` blobs, which do not say. */
  kekId: string | null;
  iv: string;
  ciphertext: string;
  tag: string;
}

function parseSealedKey(sealed: string): ParsedSealedKey {
  const parts = sealed.split('.');
  if (parts[0] === 'v1' && parts.length === 4 && parts.slice(1).every(Boolean)) return { kekId: null, iv: parts[1]!, ciphertext: parts[2]!, tag: parts[3]! };
  if (parts[0] === 'v2' && parts.length === 5 && /^[0-9a-f]{16}$/.test(parts[1]!) && parts.slice(2).every(Boolean)) {
    return { kekId: parts[1]!, iv: parts[2]!, ciphertext: parts[3]!, tag: parts[4]! };
  }
  throw new Error('sealed key has an unknown format');
}

/** The id of the KEK a blob was sealed under; null for a `v1` blob (sealed before KEK ids). */
export function sealedKekId(sealed: string): string | null {
  return parseSealedKey(sealed).kekId;
}

export function openPrivateKey(keys: KeyEncryptionKeys, sealed: string, recordId: string): Buffer {
  const candidates = allKeks(keys);
  for (const kek of candidates) assertKek(kek);
  const parsed = parseSealedKey(sealed);
  const authTag = Buffer.from(parsed.tag, 'base64url');
  // GCM accepts tags as short as 4 bytes; only the full 16-byte tag gives the intended protection.
  if (authTag.length !== TAG_BYTES) throw new Error(`cannot decrypt the private key of ${recordId}: tampered record`);
  if (parsed.kekId !== null) {
    const kek = candidates.find((candidate) => kekId(candidate) === parsed.kekId);
    if (!kek) {
      throw new Error(`cannot decrypt the private key of ${recordId}: it is sealed under KEK ${parsed.kekId}, which is not configured (configured: ${candidates.map(kekId).join(', ')})`);
    }
    const opened = decrypt(kek, parsed, authTag, recordId);
    if (opened) return opened;
    throw new Error(`cannot decrypt the private key of ${recordId}: tampered record`);
  }
  for (const kek of candidates) {
    const opened = decrypt(kek, parsed, authTag, recordId);
    if (opened) return opened;
  }
  throw new Error(`cannot decrypt the private key of ${recordId}: wrong key-encryption key or tampered record`);
}

function decrypt(kek: Buffer, parsed: ParsedSealedKey, authTag: Buffer, recordId: string): Buffer | null {
  try {
    const decipher = createDecipheriv('aes-256-gcm', kek, Buffer.from(parsed.iv, 'base64url'), { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(recordId, 'utf8'));
    decipher.setAuthTag(authTag);
    return Buffer.concat([decipher.update(Buffer.from(parsed.ciphertext, 'base64url')), decipher.final()]);
  } catch {
    return null;
  }
}

export function assertKek(kek: Buffer): void {
  if (kek.length !== 32) throw new Error(`the key-encryption key must be 32 bytes, got ${kek.length}`);
}

/**
 * The symmetric key that sealed webhook secrets before they were sealed to the worker's public key
 * (ca/destination-secrets.ts): kept only to open those legacy blobs until `certflow kek rotate`
 * re-seals them.
 */
export function deriveSecretsKey(kek: Buffer): Buffer {
  assertKek(kek);
  return Buffer.from(hkdfSync('sha256', kek, Buffer.alloc(0), 'certflow destination secrets v1', 32));
}

/** Additional authenticated data of a destination secret: bound to its certificate and position. */
export function destinationSecretId(certificateId: string, destinationIndex: number): string {
  return `${certificateId}/destinations/${destinationIndex}`;
}

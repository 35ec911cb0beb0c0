/**
 * Sealing to a public key, so a process can seal what it must never open again (the API sealing
 * webhook secrets that only the worker opens). An ECIES construction in the manner of HPKE base
 * mode (RFC 9180), built from node:crypto since Node 20 has no HPKE:
 *
 *   e, E     = fresh X25519 key pair (one per message)
 *   shared   = X25519(e, R)                    R: the recipient's public key
 *   key‖iv   = HKDF-SHA256(ikm = shared, salt = E‖R, info = INFO, 32 + 12 bytes)
 *   sealed   = AES-256-GCM(key, iv, plaintext, aad = "sb1.<recipientId>.<context>")
 *
 * Format: `sb1.<recipientId>.<E>.<ciphertext>.<tag>` (base64url parts; `recipientId` is
 * sealingKeyId(R), so the opener picks the right private key while a rotation runs). The key and
 * IV are used for one message only (E is fresh), hence a derived IV. `context` (e.g. the webhook
 * secret's certificate and position) is authenticated, so a blob moved elsewhere fails to open.
 */
import { createHash, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, type KeyObject, createCipheriv, createDecipheriv } from 'node:crypto';

const FORMAT = 'sb1';
const INFO = 'certflow sealed-box v1 x25519 hkdf-sha256 aes-256-gcm';
const TAG_BYTES = 16;
/** PKCS#8 of an X25519 private key is this fixed prefix followed by the 32-byte scalar (RFC 8410). */
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

export interface SealingPublicKey {
  /** The raw 32-byte X25519 public key. */
  raw: Buffer;
  /** sealingKeyId(raw). */
  id: string;
}

export interface SealingPrivateKey {
  privateKey: KeyObject;
  publicKey: SealingPublicKey;
}

/** 16 hex characters of SHA-256 over the raw public key. */
export function sealingKeyId(raw: Buffer): string {
  return createHash('sha256').update(raw).digest('hex').slice(0, 16);
}

export function sealingPublicKey(raw: Buffer): SealingPublicKey {
  if (raw.length !== 32) throw new Error(`an X25519 public key is 32 bytes, got ${raw.length}`);
  return { raw: Buffer.from(raw), id: sealingKeyId(raw) };
}

/** The key pair whose private scalar is these 32 bytes (e.g. derived from the KEK with HKDF). */
export function sealingKeyPairFromSeed(seed: Buffer): SealingPrivateKey {
  if (seed.length !== 32) throw new Error(`an X25519 private key is 32 bytes, got ${seed.length}`);
  const privateKey = createPrivateKey({ key: Buffer.concat([X25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  return { privateKey, publicKey: sealingPublicKey(rawPublicKey(createPublicKey(privateKey))) };
}

export function generateSealingKeyPair(): SealingPrivateKey {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  return { privateKey, publicKey: sealingPublicKey(rawPublicKey(publicKey)) };
}

/** How the public key is written in configuration: `x25519:<base64url of the raw 32 bytes>`. */
export function encodeSealingPublicKey(key: SealingPublicKey): string {
  return `x25519:${key.raw.toString('base64url')}`;
}

export function decodeSealingPublicKey(text: string): SealingPublicKey {
  const match = /^x25519:([A-Za-z0-9_-]{43})$/.exec(text.trim());
  if (!match) throw new Error('a sealing public key is written x25519:<43 base64url characters>');
  return sealingPublicKey(Buffer.from(match[1]!, 'base64url'));
}

export function sealToPublicKey(recipient: SealingPublicKey, plaintext: Uint8Array, context: string): string {
  const ephemeral = generateKeyPairSync('x25519');
  const ephemeralRaw = rawPublicKey(ephemeral.publicKey);
  const { key, iv } = messageKeys(diffieHellman({ privateKey: ephemeral.privateKey, publicKey: publicKeyObject(recipient.raw) }), ephemeralRaw, recipient.raw);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(associatedData(recipient.id, context));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  key.fill(0);
  return [FORMAT, recipient.id, ...[ephemeralRaw, ciphertext, cipher.getAuthTag()].map((part) => part.toString('base64url'))].join('.');
}

/** True when `sealed` is a sealed box (whatever its recipient). */
export function isSealedBox(sealed: string): boolean {
  return sealed.startsWith(`${FORMAT}.`);
}

/** The id of the public key a sealed box was sealed to. */
export function sealedBoxRecipient(sealed: string): string {
  return parseSealedBox(sealed).recipientId;
}

/** Opens with whichever of `recipients` the box was sealed to; throws when none is, or on any tampering. */
export function openSealedBox(recipients: readonly SealingPrivateKey[], sealed: string, context: string): Buffer {
  const parsed = parseSealedBox(sealed);
  const recipient = recipients.find((candidate) => candidate.publicKey.id === parsed.recipientId);
  if (!recipient) throw new Error(`sealed to key ${parsed.recipientId}, which is not held (held: ${recipients.map((r) => r.publicKey.id).join(', ') || 'none'})`);
  const ephemeralRaw = Buffer.from(parsed.ephemeral, 'base64url');
  const tag = Buffer.from(parsed.tag, 'base64url');
  if (ephemeralRaw.length !== 32 || tag.length !== TAG_BYTES) throw new Error('tampered sealed box');
  let shared: Buffer;
  try {
    shared = diffieHellman({ privateKey: recipient.privateKey, publicKey: publicKeyObject(ephemeralRaw) });
  } catch {
    throw new Error('tampered sealed box');
  }
  const { key, iv } = messageKeys(shared, ephemeralRaw, recipient.publicKey.raw);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(associatedData(parsed.recipientId, context));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(Buffer.from(parsed.ciphertext, 'base64url')), decipher.final()]);
  } catch {
    throw new Error('cannot open the sealed box: tampered, or sealed for another context');
  } finally {
    key.fill(0);
  }
}

function parseSealedBox(sealed: string): { recipientId: string; ephemeral: string; ciphertext: string; tag: string } {
  const parts = sealed.split('.');
  if (parts.length !== 5 || parts[0] !== FORMAT || !/^[0-9a-f]{16}$/.test(parts[1]!) || !parts[2] || !parts[4]) throw new Error('sealed box has an unknown format');
  return { recipientId: parts[1]!, ephemeral: parts[2]!, ciphertext: parts[3]!, tag: parts[4]! };
}

function messageKeys(shared: Buffer, ephemeralRaw: Buffer, recipientRaw: Buffer): { key: Buffer; iv: Buffer } {
  // A low-order point gives the all-zero shared secret (RFC 7748 §6.1): refuse it rather than derive from it.
  if (shared.every((byte) => byte === 0)) throw new Error('tampered sealed box');
  const okm = Buffer.from(hkdfSync('sha256', shared, Buffer.concat([ephemeralRaw, recipientRaw]), INFO, 32 + 12));
  shared.fill(0);
  return { key: okm.subarray(0, 32), iv: okm.subarray(32) };
}

function associatedData(recipientId: string, context: string): Buffer {
  return Buffer.from(`${FORMAT}.${recipientId}.${context}`, 'utf8');
}

function rawPublicKey(key: KeyObject): Buffer {
  return Buffer.from(key.export({ format: 'jwk' }).x!, 'base64url');
}

function publicKeyObject(raw: Buffer): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: raw.toString('base64url') }, format: 'jwk' });
}

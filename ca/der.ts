/**
 * Minimal DER encoding (X.690) for the structures Certflow signs itself. Encoders return Buffers
 * and never re-parse; callers concatenate pre-encoded parts, which is what makes the hot path cheap.
 */
import type { KeyAlgorithm } from '../core/types.js';
import type { Signer } from './signer.js';

export const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utf8String: 0x0c,
  printableString: 0x13,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  set: 0x31,
} as const;

export function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function tlv(tag: number, ...contents: Uint8Array[]): Buffer {
  const body = contents.length === 1 ? Buffer.from(contents[0]!.buffer, contents[0]!.byteOffset, contents[0]!.byteLength) : Buffer.concat(contents);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

export const sequence = (...contents: Uint8Array[]): Buffer => tlv(TAG.sequence, ...contents);
export const set = (...contents: Uint8Array[]): Buffer => tlv(TAG.set, ...contents);
export const octetString = (content: Uint8Array): Buffer => tlv(TAG.octetString, content);
export const contextExplicit = (n: number, ...contents: Uint8Array[]): Buffer => tlv(0xa0 | n, ...contents);
export const contextPrimitive = (n: number, content: Uint8Array): Buffer => tlv(0x80 | n, content);
export const contextConstructed = (n: number, ...contents: Uint8Array[]): Buffer => tlv(0xa0 | n, ...contents);
export const nullValue = (): Buffer => Buffer.from([TAG.null, 0]);
export const booleanTrue = (): Buffer => Buffer.from([TAG.boolean, 1, 0xff]);

/** A non-negative INTEGER from big-endian bytes, minimally encoded (leading zeros dropped, 0x00 pad when the high bit is set). */
export function unsignedInteger(bytes: Uint8Array): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const trimmed = Buffer.from(bytes.subarray(start));
  return tlv(TAG.integer, trimmed[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

export function smallInteger(n: number): Buffer {
  const bytes: number[] = [];
  let rest = n;
  do {
    bytes.unshift(rest & 0xff);
    rest = Math.floor(rest / 256);
  } while (rest > 0);
  return unsignedInteger(Uint8Array.from(bytes));
}

export function bitString(content: Uint8Array, unusedBits = 0): Buffer {
  return tlv(TAG.bitString, Buffer.from([unusedBits]), content);
}

const oidCache = new Map<string, Buffer>();
export function oid(dotted: string): Buffer {
  let encoded = oidCache.get(dotted);
  if (!encoded) {
    const arcs = dotted.split('.').map((arc) => BigInt(arc));
    const body: number[] = [];
    const first = arcs[0]! * 40n + arcs[1]!;
    for (const arc of [first, ...arcs.slice(2)]) {
      const chunk: number[] = [Number(arc & 0x7fn)];
      for (let rest = arc >> 7n; rest > 0n; rest >>= 7n) chunk.unshift(Number(rest & 0x7fn) | 0x80);
      body.push(...chunk);
    }
    encoded = tlv(TAG.oid, Buffer.from(body));
    oidCache.set(dotted, encoded);
  }
  return encoded;
}

/** UTCTime for years 1950–2049, GeneralizedTime otherwise (RFC 5280 §4.1.2.5). */
export function time(date: Date): Buffer {
  const iso = date.toISOString();
  const digits = iso.slice(0, 19).replace(/[-:T]/g, '');
  const year = date.getUTCFullYear();
  return year >= 1950 && year < 2050 ? tlv(TAG.utcTime, Buffer.from(`${digits.slice(2)}Z`, 'ascii')) : tlv(TAG.generalizedTime, Buffer.from(`${digits}Z`, 'ascii'));
}

const SIGNATURE_ALGORITHM_OIDS: Record<KeyAlgorithm, { oid: string; nullParams: boolean }> = {
  'ECDSA-P256': { oid: '1.2.840.10045.4.3.2', nullParams: false }, // ecdsa-with-SHA256
  'ECDSA-P384': { oid: '1.2.840.10045.4.3.3', nullParams: false }, // ecdsa-with-SHA384
  'RSA-2048': { oid: '1.2.840.113549.1.1.11', nullParams: true }, // sha256WithRSAEncryption
  'RSA-3072': { oid: '1.2.840.113549.1.1.11', nullParams: true },
  'RSA-4096': { oid: '1.2.840.113549.1.1.11', nullParams: true },
  Ed25519: { oid: '1.3.101.112', nullParams: false },
};

/** The AlgorithmIdentifier of signatures made by a key of this algorithm (RFC 5758, 4055, 8410). */
export function signatureAlgorithmIdentifier(keyAlgorithm: KeyAlgorithm): Buffer {
  const { oid: dotted, nullParams } = SIGNATURE_ALGORITHM_OIDS[keyAlgorithm];
  return nullParams ? sequence(oid(dotted), nullValue()) : sequence(oid(dotted));
}

/** Signs a DER to-be-signed structure and wraps it: SEQUENCE { tbs, signatureAlgorithm, BIT STRING signature }. */
export async function signStructure(tbs: Uint8Array, signer: Signer): Promise<Buffer> {
  const signature = await signer.sign(tbs);
  return sequence(tbs, signatureAlgorithmIdentifier(signer.keyAlgorithm), bitString(signature));
}

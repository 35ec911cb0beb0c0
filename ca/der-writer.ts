/**
 * The DER writer (X.690) for everything Certflow signs. `DerWriter` writes into one buffer sized
 * up front — lengths are computed first, then every byte is written once — which is what keeps the
 * per-certificate encoding (leaf-tbs.ts) cheap. The helpers below (sequence, oid, time, …) build
 * the parts that are encoded once or rarely (templates, CRLs, OCSP responses) on the same writer:
 * each returns a Buffer and callers concatenate pre-encoded parts.
 */
import type { KeyAlgorithm } from '../core/types.js';
import { TAG } from './der-tags.js';
import type { Signer } from './signer.js';

const MAX_LENGTH = 0xffffffff;

const lengthSize = (length: number): number => (length < 0x80 ? 1 : length < 0x100 ? 2 : length < 0x10000 ? 3 : length < 0x1000000 ? 4 : 5);

/** Size of a whole TLV with `contentLength` content octets. */
export const tlvSize = (contentLength: number): number => 1 + lengthSize(contentLength) + contentLength;

export class DerWriter {
  readonly buffer: Buffer;
  private offset = 0;

  constructor(size: number) {
    this.buffer = Buffer.allocUnsafe(size);
  }

  header(tag: number, length: number): void {
    const buffer = this.buffer;
    buffer[this.offset++] = tag;
    if (length < 0x80) {
      buffer[this.offset++] = length;
    } else if (length < 0x100) {
      buffer[this.offset++] = 0x81;
      buffer[this.offset++] = length;
    } else if (length < 0x10000) {
      buffer[this.offset++] = 0x82;
      buffer[this.offset++] = length >> 8;
      buffer[this.offset++] = length & 0xff;
    } else if (length < 0x1000000) {
      buffer[this.offset++] = 0x83;
      buffer[this.offset++] = length >> 16;
      buffer[this.offset++] = (length >> 8) & 0xff;
      buffer[this.offset++] = length & 0xff;
    } else {
      if (length > MAX_LENGTH) throw new Error(`DER length ${length} is too large`);
      buffer[this.offset++] = 0x84;
      buffer[this.offset++] = length >>> 24;
      buffer[this.offset++] = (length >>> 16) & 0xff;
      buffer[this.offset++] = (length >>> 8) & 0xff;
      buffer[this.offset++] = length & 0xff;
    }
  }

  bytes(data: Uint8Array): void {
    this.buffer.set(data, this.offset);
    this.offset += data.length;
  }

  /** Writes hex `digits` as `octets` octets, right-aligned: missing leading digits are zeros. */
  hex(digits: string, octets: number): void {
    const buffer = this.buffer;
    let digit = digits.length - 1;
    for (let at = this.offset + octets - 1; at >= this.offset; at--) {
      const low = digit >= 0 ? hexValue(digits.charCodeAt(digit--)) : 0;
      const high = digit >= 0 ? hexValue(digits.charCodeAt(digit--)) : 0;
      buffer[at] = (high << 4) | low;
    }
    this.offset += octets;
  }

  /** UTCTime YYMMDDHHMMSSZ for 1950–2049, GeneralizedTime YYYYMMDDHHMMSSZ otherwise (RFC 5280 §4.1.2.5), whole seconds. */
  time(date: Date): void {
    if (timeLength(date) === 13) {
      this.header(TAG.utcTime, 13);
      this.digits(date, false);
    } else {
      this.generalizedTime(date);
    }
  }

  /** GeneralizedTime YYYYMMDDHHMMSSZ whatever the year (RFC 6960 uses it throughout), whole seconds. */
  generalizedTime(date: Date): void {
    timeLength(date);
    this.header(TAG.generalizedTime, 15);
    this.digits(date, true);
  }

  private digits(date: Date, century: boolean): void {
    const year = date.getUTCFullYear();
    if (century) this.twoDigits(Math.floor(year / 100));
    this.twoDigits(year % 100);
    this.twoDigits(date.getUTCMonth() + 1);
    this.twoDigits(date.getUTCDate());
    this.twoDigits(date.getUTCHours());
    this.twoDigits(date.getUTCMinutes());
    this.twoDigits(date.getUTCSeconds());
    this.buffer[this.offset++] = 0x5a; // 'Z'
  }

  private twoDigits(value: number): void {
    this.buffer[this.offset++] = 0x30 + Math.floor(value / 10);
    this.buffer[this.offset++] = 0x30 + (value % 10);
  }

  /** Writes text whose every character is below U+0100 (callers ensure ASCII) as one octet each. */
  latin1(text: string): void {
    this.offset += this.buffer.write(text, this.offset, 'latin1');
  }

  done(): Buffer {
    if (this.offset !== this.buffer.length) throw new Error(`DER size mismatch: wrote ${this.offset} of ${this.buffer.length} octets`);
    return this.buffer;
  }
}

function hexValue(code: number): number {
  return code <= 0x39 ? code - 0x30 : (code | 0x20) - 0x57;
}

/** UTCTime (13 characters) for 1950–2049, GeneralizedTime (15) otherwise (RFC 5280 §4.1.2.5). */
export function timeLength(date: Date): number {
  const year = date.getUTCFullYear();
  if (!(year >= 0 && year <= 9999)) throw new Error(`year ${year} cannot be encoded in a certificate`);
  return year >= 1950 && year < 2050 ? 13 : 15;
}

export function tlv(tag: number, ...contents: Uint8Array[]): Buffer {
  let length = 0;
  for (const content of contents) length += content.length;
  const out = new DerWriter(tlvSize(length));
  out.header(tag, length);
  for (const content of contents) out.bytes(content);
  return out.done();
}

export const sequence = (...contents: Uint8Array[]): Buffer => tlv(TAG.sequence, ...contents);
export const set = (...contents: Uint8Array[]): Buffer => tlv(TAG.set, ...contents);
export const octetString = (content: Uint8Array): Buffer => tlv(TAG.octetString, content);
export const contextExplicit = (n: number, ...contents: Uint8Array[]): Buffer => tlv(0xa0 | n, ...contents);
export const contextPrimitive = (n: number, content: Uint8Array): Buffer => tlv(0x80 | n, content);
export const contextConstructed = (n: number, ...contents: Uint8Array[]): Buffer => tlv(0xa0 | n, ...contents);
export const nullValue = (): Buffer => Buffer.from([TAG.null, 0]);
export const booleanTrue = (): Buffer => Buffer.from([TAG.boolean, 1, 0xff]);

/** Minimal two's-complement contents of a non-negative integer given as big-endian bytes. */
function integerContent(bytes: Uint8Array): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const trimmed = Buffer.from(bytes.subarray(start));
  return trimmed[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed;
}

function smallIntegerBytes(n: number): Uint8Array {
  const bytes: number[] = [];
  let rest = n;
  do {
    bytes.unshift(rest & 0xff);
    rest = Math.floor(rest / 256);
  } while (rest > 0);
  return Uint8Array.from(bytes);
}

/** A non-negative INTEGER from big-endian bytes, minimally encoded (leading zeros dropped, 0x00 pad when the high bit is set). */
export function unsignedInteger(bytes: Uint8Array): Buffer {
  return tlv(TAG.integer, integerContent(bytes));
}

export function smallInteger(n: number): Buffer {
  return unsignedInteger(smallIntegerBytes(n));
}

export function enumerated(n: number): Buffer {
  return tlv(TAG.enumerated, integerContent(smallIntegerBytes(n)));
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
  const out = new DerWriter(tlvSize(timeLength(date)));
  out.time(date);
  return out.done();
}

/** GeneralizedTime without fractional seconds (RFC 5280 §4.1.2.5.2, which RFC 6960 follows). */
export function generalizedTime(date: Date): Buffer {
  const out = new DerWriter(tlvSize(15));
  out.generalizedTime(date);
  return out.done();
}

/** Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING } (RFC 5280 §4.1). */
export function extension(extnId: string, critical: boolean, value: Uint8Array): Buffer {
  return critical ? sequence(oid(extnId), booleanTrue(), octetString(value)) : sequence(oid(extnId), octetString(value));
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

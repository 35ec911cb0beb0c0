/**
 * The DER reader (X.690 §10) for everything Certflow reads: CSRs and public keys from clients, OCSP
 * requests, and fields of issuer certificates. Strict — one encoding per value: definite minimal
 * lengths, minimal INTEGERs and OID arcs, no trailing bytes, tag numbers below 31 — so anything it
 * accepts is canonical (hashing an SPKI identifies the key; blocklists rely on that). It only slices:
 * every element keeps its original bytes. Errors are `DerError`s whose message says what is wrong.
 */
import { TAG } from './der-tags.js';

export class DerError extends Error {
  override name = 'DerError';
}

export interface DerElement {
  /** The identifier octet (class, constructed bit and tag number < 31). */
  tag: number;
  /** The whole TLV. */
  raw: Buffer;
  /** The contents octets. */
  content: Buffer;
}

const asBuffer = (bytes: Uint8Array): Buffer => (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));

/** Reads one element at `offset`; returns it and the offset just after it. */
export function readElement(bytes: Uint8Array, offset = 0): { element: DerElement; next: number } {
  const buffer = asBuffer(bytes);
  if (offset + 2 > buffer.length) throw new DerError('unexpected end of data: it ends in the middle of an element');
  const tag = buffer[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError(`tag 0x${tag.toString(16)} uses the multi-byte form, which Certflow never needs`);
  const first = buffer[offset + 1]!;
  let length = first;
  let start = offset + 2;
  if (first === 0x80) throw new DerError('it uses an indefinite length, which DER forbids');
  if (first > 0x80) {
    const count = first & 0x7f;
    if (count > 4) throw new DerError(`a length of ${count} bytes is too large`);
    if (start + count > buffer.length) throw new DerError('it ends in the middle of a length');
    length = 0;
    for (let index = 0; index < count; index++) length = length * 256 + buffer[start + index]!;
    if (buffer[start] === 0 || length < 0x80) throw new DerError('a length is not minimally encoded');
    start += count;
  }
  const end = start + length;
  if (end > buffer.length) throw new DerError(`an element claims ${length} bytes but only ${buffer.length - start} remain`);
  return { element: { tag, raw: buffer.subarray(offset, end), content: buffer.subarray(start, end) }, next: end };
}

/** Parses bytes that must hold exactly one element. */
export function parseDer(bytes: Uint8Array, what = 'the DER element'): DerElement {
  const { element, next } = readElement(bytes, 0);
  if (next !== bytes.length) throw trailing(bytes.length - next, what);
  return element;
}

/** Parses bytes that must hold exactly one element with this tag (the tag is checked before trailing bytes). */
export function readOne(bytes: Uint8Array, tag: number, what: string): DerElement {
  const { element, next } = readElement(bytes, 0);
  expectTag(element, tag, what);
  if (next !== bytes.length) throw trailing(bytes.length - next, what);
  return element;
}

const trailing = (count: number, what: string) => new DerError(`trailing data: ${count} unexpected bytes follow ${what}`);

/** The children of a constructed element, in order. */
export function children(element: DerElement): DerElement[] {
  if ((element.tag & 0x20) === 0) throw new DerError(`element with tag 0x${element.tag.toString(16)} is not constructed`);
  const result: DerElement[] = [];
  for (let offset = 0; offset < element.content.length; ) {
    const { element: child, next } = readElement(element.content, offset);
    result.push(child);
    offset = next;
  }
  return result;
}

export function expectTag(element: DerElement | undefined, tag: number, what: string): DerElement {
  if (!element) throw new DerError(`${what} is missing`);
  if (element.tag !== tag) throw new DerError(`${what} has tag 0x${element.tag.toString(16)}, expected 0x${tag.toString(16)}`);
  return element;
}

/** An OBJECT IDENTIFIER in dotted form; every arc minimally encoded. */
export function decodeOid(element: DerElement | undefined, what = 'the OBJECT IDENTIFIER'): string {
  const bytes = expectTag(element, TAG.oid, what).content;
  if (bytes.length === 0) throw new DerError(`${what} is an empty OBJECT IDENTIFIER`);
  if (bytes[bytes.length - 1]! & 0x80) throw new DerError(`${what} ends in the middle of an arc`);
  // Arcs are numbers while they stay exact (below 2^53), BigInts beyond: BigInt arithmetic on every
  // byte of every OID cost more than the rest of reading a public key.
  let text = '';
  let arc = 0;
  let bigArc: bigint | null = null;
  let arcStart = true;
  for (const byte of bytes) {
    if (arcStart && byte === 0x80) throw new DerError(`${what} has an arc that is not minimally encoded`);
    if (bigArc === null && arc < 2 ** 45) arc = arc * 128 + (byte & 0x7f);
    else bigArc = (bigArc ?? BigInt(arc)) * 128n + BigInt(byte & 0x7f);
    arcStart = !(byte & 0x80);
    if (arcStart) {
      text += text === '' ? firstArcs(bigArc ?? arc) : `.${bigArc ?? arc}`;
      arc = 0;
      bigArc = null;
    }
  }
  return text;
}

/** The first subidentifier holds the first two arcs (X.690 §8.19.4). */
function firstArcs(value: number | bigint): string {
  if (value < 40) return `0.${value}`;
  if (value < 80) return `1.${Number(value) - 40}`;
  return typeof value === 'bigint' ? `2.${value - 80n}` : `2.${value - 80}`;
}

/** Checks an OBJECT IDENTIFIER's encoding (non-empty, minimal arcs, no arc cut off) without decoding it. */
export function checkOid(element: DerElement | undefined, what = 'the OBJECT IDENTIFIER'): void {
  const bytes = expectTag(element, TAG.oid, what).content;
  if (bytes.length === 0) throw new DerError(`${what} is an empty OBJECT IDENTIFIER`);
  if (bytes[bytes.length - 1]! & 0x80) throw new DerError(`${what} ends in the middle of an arc`);
  for (let index = 0; index < bytes.length; index++) {
    if (bytes[index] === 0x80 && (index === 0 || !(bytes[index - 1]! & 0x80))) throw new DerError(`${what} has an arc that is not minimally encoded`);
  }
}

/** A non-negative INTEGER's magnitude, minimally encoded, without its 0x00 sign octet. */
export function integerMagnitude(element: DerElement | undefined, what = 'the INTEGER'): Buffer {
  const bytes = expectTag(element, TAG.integer, what).content;
  if (bytes.length === 0) throw new DerError(`${what} is an empty INTEGER`);
  if (bytes[0]! & 0x80) throw new DerError(`${what} is negative`);
  if (bytes.length > 1 && bytes[0] === 0) {
    if (!(bytes[1]! & 0x80)) throw new DerError(`${what} has a superfluous leading zero byte`);
    return bytes.subarray(1);
  }
  return bytes;
}

/** A positive (non-zero) INTEGER. */
export function decodePositiveInteger(element: DerElement | undefined, what: string): bigint {
  const magnitude = integerMagnitude(element, what);
  // From hex in one step: shifting a byte at a time costs quadratic time (~20 µs for an RSA-2048 modulus).
  const value = magnitude.length === 0 ? 0n : BigInt(`0x${magnitude.toString('hex')}`);
  if (value === 0n) throw new DerError(`${what} is zero`);
  return value;
}

/**
 * A non-negative INTEGER as lowercase hex without leading zero octets ("00" for zero) — the
 * canonical form of serial numbers in Certflow (certificate_versions.serial, ca/serial.ts).
 */
export function integerHex(element: DerElement | undefined, what = 'the INTEGER'): string {
  return integerMagnitude(element, what).toString('hex');
}

/** The bits of a BIT STRING that has no unused bits (public keys and signatures are whole bytes). */
export function octetAlignedBits(element: DerElement | undefined, what: string): Buffer {
  const bytes = expectTag(element, TAG.bitString, what).content;
  if (bytes.length === 0) throw new DerError(`${what} is an empty BIT STRING`);
  if (bytes[0] !== 0) throw new DerError(`${what} has ${bytes[0]} unused bits; it must be whole bytes`);
  return bytes.subarray(1);
}

/**
 * Checks that an element Certflow passes over without interpreting (a signed OCSP request's
 * signature and certificates, a requestorName) is well-formed DER all the way down: every
 * constructed element holds whole elements, and the universal primitives in it have valid
 * contents (BOOLEAN, INTEGER, NULL, OBJECT IDENTIFIER, BIT STRING). A reader that skips such a
 * part would otherwise accept what every other parser refuses.
 */
export function checkWellFormed(element: DerElement, depth = 0): void {
  if (depth > 64) throw new DerError('elements are nested more than 64 deep');
  if (element.tag & 0x20) {
    for (const child of children(element)) checkWellFormed(child, depth + 1);
    return;
  }
  const { tag, content } = element;
  switch (tag) {
    case TAG.boolean:
      if (content.length !== 1 || (content[0] !== 0 && content[0] !== 0xff)) throw new DerError('a BOOLEAN is not one octet 0x00 or 0xff');
      return;
    case TAG.integer:
    case TAG.enumerated:
      if (content.length === 0) throw new DerError('an INTEGER is empty');
      if (content.length > 1 && ((content[0] === 0 && !(content[1]! & 0x80)) || (content[0] === 0xff && content[1]! & 0x80))) {
        throw new DerError('an INTEGER is not minimally encoded');
      }
      return;
    case TAG.null:
      if (content.length !== 0) throw new DerError('a NULL has content');
      return;
    case TAG.oid:
      decodeOid(element);
      return;
    case TAG.bitString:
      if (content.length === 0 || content[0]! > 7 || (content.length === 1 && content[0] !== 0)) throw new DerError('a BIT STRING has an invalid unused-bits octet');
      return;
  }
}

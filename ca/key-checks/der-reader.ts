/**
 * A strict DER reader (X.690 §10) for the few structures the key checks read. Strict means one
 * encoding per value: definite minimal lengths, minimal INTEGERs and OIDs, no trailing bytes. Since
 * the input is then canonical, hashing it identifies the key (blocklists rely on that).
 */
export class DerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DerError';
  }
}

export const DER_TAG = {
  integer: 0x02,
  bitString: 0x03,
  null: 0x05,
  oid: 0x06,
  sequence: 0x30,
} as const;

export interface Tlv {
  tag: number;
  content: Uint8Array;
}

/** Reads one TLV at `offset`; returns it and the offset just past it. */
function readTlvAt(bytes: Uint8Array, offset: number): { tlv: Tlv; end: number } {
  if (offset + 2 > bytes.length) throw new DerError('it ends in the middle of an element');
  const tag = bytes[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError(`tag 0x${tag.toString(16)} uses the multi-byte form, which no public key needs`);
  const first = bytes[offset + 1]!;
  let length = first;
  let start = offset + 2;
  if (first === 0x80) throw new DerError('it uses an indefinite length, which DER forbids');
  if (first > 0x80) {
    const count = first & 0x7f;
    if (count > 4) throw new DerError(`a length of ${count} bytes is too large`);
    if (start + count > bytes.length) throw new DerError('it ends in the middle of a length');
    length = 0;
    for (let index = 0; index < count; index++) length = length * 256 + bytes[start + index]!;
    if (bytes[start] === 0 || length < 0x80) throw new DerError('a length is not minimally encoded');
    start += count;
  }
  const end = start + length;
  if (end > bytes.length) throw new DerError(`an element claims ${length} bytes but only ${bytes.length - start} remain`);
  return { tlv: { tag, content: bytes.subarray(start, end) }, end };
}

/** Reads exactly one TLV spanning all of `bytes`, with the expected tag. */
export function readOne(bytes: Uint8Array, tag: number, what: string): Tlv {
  const { tlv, end } = readTlvAt(bytes, 0);
  if (tlv.tag !== tag) throw new DerError(`${what} has tag 0x${tlv.tag.toString(16)}, expected 0x${tag.toString(16)}`);
  if (end !== bytes.length) throw new DerError(`${bytes.length - end} unexpected bytes follow ${what}`);
  return tlv;
}

/** The elements of a constructed value's content, in order. */
export function readChildren(content: Uint8Array): Tlv[] {
  const children: Tlv[] = [];
  for (let offset = 0; offset < content.length; ) {
    const { tlv, end } = readTlvAt(content, offset);
    children.push(tlv);
    offset = end;
  }
  return children;
}

export function expectTag(tlv: Tlv | undefined, tag: number, what: string): Tlv {
  if (!tlv) throw new DerError(`${what} is missing`);
  if (tlv.tag !== tag) throw new DerError(`${what} has tag 0x${tlv.tag.toString(16)}, expected 0x${tag.toString(16)}`);
  return tlv;
}

/** A positive INTEGER, minimally encoded. */
export function decodePositiveInteger(tlv: Tlv, what: string): bigint {
  const bytes = expectTag(tlv, DER_TAG.integer, what).content;
  if (bytes.length === 0) throw new DerError(`${what} is an empty INTEGER`);
  if (bytes[0]! & 0x80) throw new DerError(`${what} is negative`);
  if (bytes.length > 1 && bytes[0] === 0 && !(bytes[1]! & 0x80)) throw new DerError(`${what} has a superfluous leading zero byte`);
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  if (value === 0n) throw new DerError(`${what} is zero`);
  return value;
}

/** An OBJECT IDENTIFIER in dotted form; every arc minimally encoded. */
export function decodeOid(tlv: Tlv, what: string): string {
  const bytes = expectTag(tlv, DER_TAG.oid, what).content;
  if (bytes.length === 0) throw new DerError(`${what} is an empty OBJECT IDENTIFIER`);
  if (bytes[bytes.length - 1]! & 0x80) throw new DerError(`${what} ends in the middle of an arc`);
  const arcs: bigint[] = [];
  let arc = 0n;
  let arcStart = true;
  for (const byte of bytes) {
    if (arcStart && byte === 0x80) throw new DerError(`${what} has an arc that is not minimally encoded`);
    arc = (arc << 7n) | BigInt(byte & 0x7f);
    arcStart = !(byte & 0x80);
    if (arcStart) {
      arcs.push(arc);
      arc = 0n;
    }
  }
  const first = arcs[0]!;
  const head = first < 40n ? [0n, first] : first < 80n ? [1n, first - 40n] : [2n, first - 80n];
  return [...head, ...arcs.slice(1)].join('.');
}

/** The bits of a BIT STRING that has no unused bits (every public key is whole bytes). */
export function decodeOctetAlignedBitString(tlv: Tlv | undefined, what: string): Uint8Array {
  const bytes = expectTag(tlv, DER_TAG.bitString, what).content;
  if (bytes.length === 0) throw new DerError(`${what} is an empty BIT STRING`);
  if (bytes[0] !== 0) throw new DerError(`${what} has ${bytes[0]} unused bits; a public key is whole bytes`);
  return bytes.subarray(1);
}

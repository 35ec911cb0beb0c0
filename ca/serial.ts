/**
 * Certificate serial numbers: 128 bits from a CSPRNG (RFC 5280 allows up to 20 octets; CA/B
 * requires ≥ 64 random bits). The top bit is cleared so the DER INTEGER stays positive without a
 * leading zero octet, and a zero first octet is avoided so the encoding is exactly 16 octets.
 */
import { randomFillSync } from 'node:crypto';
import { DerError } from './der-reader.js';

export type SerialSource = () => string;

const SERIAL_OCTETS = 16;
// One CSPRNG call per 256 serials: a randomBytes(16) call per certificate costs ~6 µs on the hot path.
const pool = Buffer.alloc(SERIAL_OCTETS * 256);
let offset = pool.length;

export const randomSerial: SerialSource = () => {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const bytes = Buffer.from(pool.subarray(offset, offset + SERIAL_OCTETS));
  pool.fill(0, offset, offset + SERIAL_OCTETS);
  offset += SERIAL_OCTETS;
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString('hex');
};

/** Lowercase hex without leading zero octets ("0" stays "00"): how Certflow stores and compares serials. */
export function canonicalSerial(hex: string): string {
  let value = hex.toLowerCase();
  if (!/^[0-9a-f]*$/.test(value) || value.length === 0) throw new DerError(`"${hex}" is not a hexadecimal serial`);
  if (value.length % 2 === 1) value = `0${value}`;
  while (value.length > 2 && value.startsWith('00')) value = value.slice(2);
  return value;
}

/** Big-endian bytes of a canonical hex serial, as INTEGER contents before minimal encoding. */
export function serialBytes(hex: string): Buffer {
  return Buffer.from(canonicalSerial(hex), 'hex');
}

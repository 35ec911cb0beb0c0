/**
 * Certificate serial numbers: 128 bits from a CSPRNG (RFC 5280 allows up to 20 octets; CA/B
 * requires ≥ 64 random bits). The top bit is cleared so the DER INTEGER stays positive without a
 * leading zero octet, and a zero first octet is avoided so the encoding is exactly 16 octets.
 */
import { randomFillSync } from 'node:crypto';

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

/**
 * Certificate serial numbers: 128 bits from a CSPRNG (RFC 5280 allows up to 20 octets; CA/B
 * requires ≥ 64 random bits). The top bit is cleared so the DER INTEGER stays positive without a
 * leading zero octet, and a zero first octet is avoided so the encoding is exactly 16 octets.
 */
import { randomBytes } from 'node:crypto';

export type SerialSource = () => string;

export const randomSerial: SerialSource = () => {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString('hex');
};

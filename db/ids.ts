import { randomBytes } from 'node:crypto';

export type IdPrefix = 'team' | 'tok' | 'iss' | 'crt' | 'ver' | 'key' | 'apr' | 'agt' | 'blk' | 'prn' | 'eab' | 'acct' | 'ord' | 'authz' | 'chl' | 'kcl' | 'ctc' | 'err' | 'scan';

/** Stable, unguessable ids such as `crt_5fq3…`: a type prefix and 96 random bits in base32. */
export function newId(prefix: IdPrefix): string {
  return `${prefix}_${base32(randomBytes(12))}`;
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

function base32(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

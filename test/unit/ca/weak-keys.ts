/**
 * Builders for real weak, unsupported and malformed subject keys, shared by key-checks.test.ts and
 * bad-input.test.ts. The RSA keys are built from primes generated here, so each also has a private
 * key (openssl can sign a CSR with it); nothing is a canned vector. Prime generation is the costly
 * part (well under a second per key on one core): call each builder once per file, in beforeAll.
 */
import { checkPrimeSync, createPrivateKey, generateKeyPairSync, generatePrimeSync, randomBytes, type KeyObject } from 'node:crypto';
import { bitString, nullValue, oid, sequence, tlv, unsignedInteger } from '../../../ca/der-writer.js';

export const OIDS = {
  rsaEncryption: '1.2.840.113549.1.1.1',
  ecPublicKey: '1.2.840.10045.2.1',
  p256: '1.2.840.10045.3.1.7',
  p384: '1.3.132.0.34',
} as const;

/** The field prime of P-256. */
export const P256_P = 2n ** 256n - 2n ** 224n + 2n ** 192n + 2n ** 96n - 1n;

export interface RsaKey {
  modulus: bigint;
  exponent: bigint;
  /** SubjectPublicKeyInfo, DER. */
  spki: Buffer;
  /** PKCS#8 PEM, for `openssl req -key`. */
  privateKeyPem: string;
}

export const bigIntToBytes = (value: bigint, length?: number): Buffer => {
  const hex = value.toString(16);
  const padded = hex.padStart(length !== undefined ? length * 2 : hex.length + (hex.length % 2), '0');
  return Buffer.from(padded, 'hex');
};
const base64url = (value: bigint): string => bigIntToBytes(value).toString('base64url');
export const bitLength = (value: bigint): number => value.toString(2).length;
const randomBigInt = (bits: number): bigint => BigInt(`0x${randomBytes(Math.ceil(bits / 8)).toString('hex')}`) >> BigInt(8 * Math.ceil(bits / 8) - bits);

export function spkiOf(publicKey: KeyObject): Buffer {
  return publicKey.export({ type: 'spki', format: 'der' });
}

/** SubjectPublicKeyInfo of an rsaEncryption key with any modulus and exponent (RFC 3279 §2.3.1). */
export function rsaSpki(modulus: bigint, exponent: bigint): Buffer {
  const rsaPublicKey = sequence(unsignedInteger(bigIntToBytes(modulus)), unsignedInteger(bigIntToBytes(exponent)));
  return sequence(sequence(oid(OIDS.rsaEncryption), nullValue()), bitString(rsaPublicKey));
}

/** SubjectPublicKeyInfo of an id-ecPublicKey key on the named curve `curveOid`, with `point` as given. */
export function ecSpki(curveOid: string, point: Uint8Array): Buffer {
  return sequence(sequence(oid(OIDS.ecPublicKey), oid(curveOid)), bitString(point));
}

function modInverse(value: bigint, modulus: bigint): bigint {
  let [oldR, r] = [((value % modulus) + modulus) % modulus, modulus];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const quotient = oldR / r;
    [oldR, r] = [r, oldR - quotient * r];
    [oldS, s] = [s, oldS - quotient * s];
  }
  if (oldR !== 1n) throw new Error('not invertible');
  return ((oldS % modulus) + modulus) % modulus;
}

const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? a : gcd(b, a % b));

/** The RSA key with primes p and q (q may be tiny: the private key is still valid). Throws if e is not invertible. */
export function rsaKeyFromPrimes(p: bigint, q: bigint, exponent = 65537n): RsaKey {
  const lambda = ((p - 1n) * (q - 1n)) / gcd(p - 1n, q - 1n);
  const d = modInverse(exponent, lambda);
  const modulus = p * q;
  const privateKey = createPrivateKey({
    key: {
      kty: 'RSA',
      n: base64url(modulus),
      e: base64url(exponent),
      d: base64url(d),
      p: base64url(p),
      q: base64url(q),
      dp: base64url(d % (p - 1n)),
      dq: base64url(d % (q - 1n)),
      qi: base64url(modInverse(q, p)),
    },
    format: 'jwk',
  });
  return { modulus, exponent, spki: rsaSpki(modulus, exponent), privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}

const SIEVE_PRIMES = (() => {
  const primes: bigint[] = [];
  for (let candidate = 3; candidate < 2000; candidate += 2) {
    if (primes.every((prime) => BigInt(candidate) % prime !== 0n)) primes.push(BigInt(candidate));
  }
  return primes;
})();

/** The smallest prime ≥ `start`: a sieve by small primes, then OpenSSL's primality test. */
export function nextPrime(start: bigint): bigint {
  for (let candidate = start | 1n; ; candidate += 2n) {
    if (SIEVE_PRIMES.some((prime) => candidate % prime === 0n && candidate !== prime)) continue;
    if (checkPrimeSync(candidate)) return candidate;
  }
}

/** A prime of exactly `bits` bits with its top two bits set, so a product of two such primes has all the bits. */
export function primeWithTopBitsSet(bits: number): bigint {
  return generatePrimeSync(bits, { bigint: true });
}

function retry<T>(build: () => T): T {
  for (let attempt = 1; ; attempt++) {
    try {
      return build();
    } catch (error) {
      if (attempt >= 20) throw error;
    }
  }
}

/** A 2048-bit modulus n = f × P with f ∈ {3, 5} and P a 2046-bit prime: a small factor, and a real key. */
export function smallFactorKey(): RsaKey {
  return retry(() => {
    const large = nextPrime((1n << 2045n) + randomBigInt(2044));
    const factor = bitLength(3n * large) === 2048 ? 3n : 5n;
    const key = rsaKeyFromPrimes(factor, large);
    if (bitLength(key.modulus) !== 2048) throw new Error('not 2048 bits');
    return key;
  });
}

/**
 * A 2048-bit modulus whose primes differ by about 2^gapBits: q is the first prime after p + 2^gapBits.
 * Fermat's method needs about (q − p)² / (8√n) steps: 1 for gaps up to ~2^514, ~32 for 2^516,
 * thousands for 2^519.
 */
export function closePrimesKey(gapBits = 20): RsaKey {
  return retry(() => {
    const p = primeWithTopBitsSet(1024);
    const q = nextPrime(p + (1n << BigInt(gapBits)));
    const key = rsaKeyFromPrimes(p, q);
    if (bitLength(key.modulus) !== 2048) throw new Error('not 2048 bits');
    return key;
  });
}

/** Primes up to 701: Infineon RSALib's M for 2048-bit keys is their product (Nemec et al. 2017, §2.3). */
const ROCA_M = (() => {
  let product = 1n;
  for (let candidate = 2n; candidate <= 701n; candidate++) {
    let prime = true;
    for (let divisor = 2n; divisor * divisor <= candidate; divisor++) if (candidate % divisor === 0n) prime = false;
    if (prime) product *= candidate;
  }
  return product;
})();

function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
  }
  return result;
}

/**
 * A genuinely ROCA-vulnerable-form key: both primes are p = k·M + (65537^a mod M) with M the
 * primorial of the primes up to 701 and random k and a, as Infineon's RSALib made them for 2048-bit
 * keys. OpenSSL's prime generator does the search: with `add: M, rem: 65537^a mod M` it returns a
 * prime ≡ 65537^a (mod M). Then n mod r = 65537^(a+b) mod r for every prime r ≤ 701 — the
 * fingerprint. (The detector reads only n's residues, so a modulus with those residues built by CRT
 * would pass it too; this one is the real structure, with private key.)
 */
export function rocaKey(): RsaKey {
  const rocaPrime = (): bigint =>
    generatePrimeSync(1024, { bigint: true, add: ROCA_M, rem: modPow(65537n, randomBigInt(62), ROCA_M) });
  return retry(() => {
    const key = rsaKeyFromPrimes(rocaPrime(), rocaPrime());
    if (bitLength(key.modulus) !== 2048) throw new Error('not 2048 bits');
    return key;
  });
}

/** A real RSA key whose modulus has exactly `bits` bits, from primes of ⌈bits/2⌉ and ⌊bits/2⌋ bits. */
export function rsaKeyOfBits(bits: number): RsaKey {
  return retry(() => {
    const key = rsaKeyFromPrimes(primeWithTopBitsSet(Math.ceil(bits / 2)), primeWithTopBitsSet(Math.floor(bits / 2)));
    if (bitLength(key.modulus) !== bits) throw new Error(`not ${bits} bits`);
    return key;
  });
}

/** An odd number of exactly `bits` bits: enough for checks that only look at the size. */
export function oddNumberOfBits(bits: number): bigint {
  return (1n << BigInt(bits - 1)) | randomBigInt(bits - 1) | 1n;
}

/** A key pair from node:crypto, with both halves as KeyObjects. */
export function nodeKeyPair(type: 'ec' | 'rsa' | 'rsa-pss' | 'ed25519' | 'ed448' | 'x25519', options: { namedCurve?: string; modulusLength?: number; publicExponent?: number } = {}): {
  publicKey: KeyObject;
  privateKey: KeyObject;
  privateKeyPem: string;
} {
  const { publicKey, privateKey } = generateKeyPairSync(type as 'ec', options as { namedCurve: string });
  return { publicKey, privateKey, privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}

/** The uncompressed point (0x04 || X || Y) of an EC SubjectPublicKeyInfo made by node:crypto. */
export function ecPointOf(spki: Buffer, coordinateLength: number): Buffer {
  return Buffer.from(spki.subarray(spki.length - (1 + 2 * coordinateLength)));
}

/** The raw TLVs directly inside a DER SEQUENCE (tiny and trusting: for splicing test inputs only). */
export function derChildren(der: Uint8Array): Buffer[] {
  const readLength = (at: number): { length: number; headerEnd: number } => {
    const first = der[at + 1]!;
    if (first < 0x80) return { length: first, headerEnd: at + 2 };
    let length = 0;
    for (let index = 0; index < (first & 0x7f); index++) length = length * 256 + der[at + 2 + index]!;
    return { length, headerEnd: at + 2 + (first & 0x7f) };
  };
  const outer = readLength(0);
  const elements: Buffer[] = [];
  for (let at = outer.headerEnd; at < outer.headerEnd + outer.length; ) {
    const { length, headerEnd } = readLength(at);
    elements.push(Buffer.from(der.subarray(at, headerEnd + length)));
    at = headerEnd + length;
  }
  return elements;
}

/** A SEQUENCE of already-encoded elements. */
export const derSequence = (...elements: Uint8Array[]): Buffer => tlv(0x30, ...elements);

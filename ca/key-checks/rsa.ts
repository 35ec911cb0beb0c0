/**
 * Pure checks on an RSA public key's numbers (BigInt): size, exponent, small prime factors and
 * Fermat-factorable moduli (primes too close together; Böck, "Fermat factorization in the wild", 2022).
 */
export const RSA_MIN_BITS = 2048;
export const RSA_MAX_BITS = 4096;
export const RSA_EXPONENT = 65537n;
/** Trial division bound: every prime below it is tried as a factor of the modulus. */
export const SMALL_FACTOR_BOUND = 10_000;
/** Fermat steps tried; Böck's scan found every vulnerable key in the wild within a handful. */
export const FERMAT_ROUNDS = 100;

export function bitLength(value: bigint): number {
  return value === 0n ? 0 : value.toString(2).length;
}

/** Why a modulus of this many bits is refused, or null. */
export function rsaSizeProblem(bits: number): string | null {
  if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) return `the RSA modulus is ${bits} bits; it must be ${RSA_MIN_BITS} to ${RSA_MAX_BITS} bits`;
  if (bits % 8 !== 0) return `the RSA modulus is ${bits} bits, which is not a whole number of bytes`;
  return null;
}

function primesBelow(bound: number): number[] {
  const composite = new Uint8Array(bound);
  const primes: number[] = [];
  for (let candidate = 2; candidate < bound; candidate++) {
    if (composite[candidate]) continue;
    primes.push(candidate);
    for (let multiple = candidate * candidate; multiple < bound; multiple += candidate) composite[multiple] = 1;
  }
  return primes;
}

const SMALL_PRIMES = primesBelow(SMALL_FACTOR_BOUND);

/**
 * Primes grouped so each group's product stays below 2^53 (its remainder is an exact double), and
 * groups gathered into chunks of about 1,000 bits. A remainder by a one-digit BigInt walks every
 * digit of the dividend, so the modulus is first reduced by each chunk (a few big divisions) and
 * only the shorter chunk remainder is divided by the chunk's groups: half the work of dividing the
 * whole modulus by every group.
 */
interface PrimeGroup {
  product: bigint;
  primes: number[];
}
const SMALL_PRIME_CHUNKS: { product: bigint; groups: PrimeGroup[] }[] = (() => {
  const groups: PrimeGroup[] = [];
  let current: number[] = [];
  let product = 1;
  for (const prime of SMALL_PRIMES) {
    if (product * prime > Number.MAX_SAFE_INTEGER) {
      groups.push({ product: BigInt(product), primes: current });
      current = [];
      product = 1;
    }
    current.push(prime);
    product *= prime;
  }
  groups.push({ product: BigInt(product), primes: current });

  const chunks: { product: bigint; groups: PrimeGroup[] }[] = [];
  let chunk: PrimeGroup[] = [];
  let chunkProduct = 1n;
  for (const group of groups) {
    if (bitLength(chunkProduct * group.product) > 1000) {
      chunks.push({ product: chunkProduct, groups: chunk });
      chunk = [];
      chunkProduct = 1n;
    }
    chunk.push(group);
    chunkProduct *= group.product;
  }
  chunks.push({ product: chunkProduct, groups: chunk });
  return chunks;
})();

/** The smallest prime below SMALL_FACTOR_BOUND that divides `modulus`, or null. */
export function smallPrimeFactor(modulus: bigint): number | null {
  for (const chunk of SMALL_PRIME_CHUNKS) {
    const reduced = modulus % chunk.product;
    for (const group of chunk.groups) {
      const remainder = Number(reduced % group.product);
      // remainder < 2^53: the quotient is a whole number exactly when the prime divides it, and a
      // division is much cheaper than `%` on a double (a call to fmod).
      for (const prime of group.primes) if (Number.isInteger(remainder / prime)) return prime;
    }
  }
  return null;
}

/** ⌊√value⌋, by Newton's method from just above the root (a double's square root of the top bits). */
export function isqrt(value: bigint): bigint {
  if (value < 2n) return value;
  // Keep about 100 bits (an even number of bits dropped): the double's root is then within ±1 of
  // the root of the top bits, and Newton's method needs two or three steps instead of eleven.
  const shift = Math.max(0, bitLength(value) - 100) & ~1;
  let x = (BigInt(Math.ceil(Math.sqrt(Number(value >> BigInt(shift))))) + 2n) << BigInt(shift / 2);
  for (;;) {
    const next = (x + value / x) >> 1n;
    if (next >= x) return x;
    x = next;
  }
}

/**
 * Squares modulo 64, 63, 65 and 11: a number that is a non-square modulo any of them is no square.
 * Together they let through about 1 number in 120, so the square root is rarely computed.
 */
const SQUARE_FILTERS = [64, 63, 65, 11].map((modulus) => {
  const isSquare = new Uint8Array(modulus);
  for (let k = 0; k < modulus; k++) isSquare[(k * k) % modulus] = 1;
  return { modulus, isSquare };
});
/** 64 · 63 · 65 · 11 < 2^22: residues modulo it are small integers. */
const FILTER_MODULUS = SQUARE_FILTERS.reduce((product, filter) => product * filter.modulus, 1);

function mayBeSquare(residue: number): boolean {
  for (const { modulus, isSquare } of SQUARE_FILTERS) if (!isSquare[residue % modulus]) return false;
  return true;
}

function squareRootIfSquare(value: bigint): bigint | null {
  const root = isqrt(value);
  return root * root === value ? root : null;
}

/**
 * Fermat's method: with a = ⌈√n⌉, a² − n = b² for some a within `rounds` steps when the primes are
 * close, and then n = (a − b)(a + b). Returns the factors and the step that found them, or null.
 * The difference a² − n is followed modulo FILTER_MODULUS as a small integer, step by step; only a
 * difference that passes the square filters is computed in full and tested.
 */
export function fermatFactor(modulus: bigint, rounds = FERMAT_ROUNDS): { p: bigint; q: bigint; step: number } | null {
  let a = isqrt(modulus);
  if (a * a < modulus) a += 1n;
  const m = BigInt(FILTER_MODULUS);
  // difference(step) = (a + step − 1)² − n; from one step to the next it grows by 2(a + step − 1) + 1.
  let difference = Number((((a * a - modulus) % m) + m) % m);
  let growth = Number((2n * a + 1n) % m);
  for (let step = 1; step <= rounds; step++) {
    if (mayBeSquare(difference)) {
      const x = a + BigInt(step - 1);
      const b = squareRootIfSquare(x * x - modulus);
      if (b !== null && x - b > 1n) return { p: x - b, q: x + b, step };
    }
    difference = (difference + growth) % FILTER_MODULUS;
    growth = (growth + 2) % FILTER_MODULUS;
  }
  return null;
}

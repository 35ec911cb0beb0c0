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
 * Primes grouped so each group's product stays below 2^53: one BigInt remainder per group, then
 * cheap Number remainders per prime.
 */
const SMALL_PRIME_GROUPS: { product: bigint; primes: number[] }[] = (() => {
  const groups: { product: bigint; primes: number[] }[] = [];
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
  return groups;
})();

/** The smallest prime below SMALL_FACTOR_BOUND that divides `modulus`, or null. */
export function smallPrimeFactor(modulus: bigint): number | null {
  for (const group of SMALL_PRIME_GROUPS) {
    const remainder = Number(modulus % group.product);
    const factor = group.primes.find((prime) => remainder % prime === 0);
    if (factor !== undefined) return factor;
  }
  return null;
}

export function isqrt(value: bigint): bigint {
  if (value < 2n) return value;
  let x = 1n << BigInt(Math.ceil(bitLength(value) / 2));
  for (;;) {
    const next = (x + value / x) >> 1n;
    if (next >= x) return x;
    x = next;
  }
}

/** Quadratic residues mod 64: a cheap filter before the square root. */
const SQUARES_MOD_64 = new Set(Array.from({ length: 64 }, (_, k) => (k * k) % 64));

function squareRootIfSquare(value: bigint): bigint | null {
  if (!SQUARES_MOD_64.has(Number(value & 63n))) return null;
  const root = isqrt(value);
  return root * root === value ? root : null;
}

/**
 * Fermat's method: with a = ⌈√n⌉, a² − n = b² for some a within `rounds` steps when the primes are
 * close, and then n = (a − b)(a + b). Returns the factors and the step that found them, or null.
 */
export function fermatFactor(modulus: bigint, rounds = FERMAT_ROUNDS): { p: bigint; q: bigint; step: number } | null {
  let a = isqrt(modulus);
  if (a * a < modulus) a += 1n;
  let difference = a * a - modulus;
  for (let step = 1; step <= rounds; step++) {
    const b = squareRootIfSquare(difference);
    if (b !== null && a - b > 1n) return { p: a - b, q: a + b, step };
    difference += 2n * a + 1n;
    a += 1n;
  }
  return null;
}

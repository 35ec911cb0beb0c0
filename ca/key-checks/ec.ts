/**
 * The accepted ECDSA curves and full public-point validation (SEC 1 v2 §3.2.2.1): uncompressed
 * encoding, coordinates in the field, on the curve, not the point at infinity. Both curves have
 * cofactor 1, so a point on the curve lies in the prime-order group and no order check is needed.
 * OpenSSL rejects off-curve points but accepts the point at infinity (a single 0x00 byte) and
 * compressed points, and Node aborts the process when asked for the details of an infinity key, so
 * the point is validated here before any node:crypto call sees it.
 */
import type { KeyAlgorithm } from '../../core/types.js';

export interface Curve {
  name: 'P-256' | 'P-384';
  keyAlgorithm: KeyAlgorithm;
  /** Field prime. */
  p: bigint;
  /** Coefficient b of y² = x³ − 3x + b. */
  b: bigint;
  /** Bytes of one coordinate. */
  size: number;
}

/** FIPS 186-4 §D.1.2.3 and §D.1.2.4. */
export const ACCEPTED_CURVES: Record<string, Curve> = {
  '1.2.840.10045.3.1.7': {
    name: 'P-256',
    keyAlgorithm: 'ECDSA-P256',
    p: 2n ** 256n - 2n ** 224n + 2n ** 192n + 2n ** 96n - 1n,
    b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
    size: 32,
  },
  '1.3.132.0.34': {
    name: 'P-384',
    keyAlgorithm: 'ECDSA-P384',
    p: 2n ** 384n - 2n ** 128n - 2n ** 96n + 2n ** 32n - 1n,
    b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
    size: 48,
  },
};

/** Curves Certflow refuses, by OID, so a refusal can name what was sent. */
export const REFUSED_CURVE_NAMES: Record<string, string> = {
  '1.2.840.10045.3.1.1': 'P-192',
  '1.3.132.0.33': 'P-224',
  '1.3.132.0.35': 'P-521',
  '1.3.132.0.10': 'secp256k1',
  '1.3.36.3.3.2.8.1.1.7': 'brainpoolP256r1',
  '1.3.36.3.3.2.8.1.1.11': 'brainpoolP384r1',
  '1.3.36.3.3.2.8.1.1.13': 'brainpoolP512r1',
  '1.2.156.10197.1.301': 'SM2',
};

const bytesToBigInt = (bytes: Uint8Array): bigint => (bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString('hex')}`));

/** Why `point` is not a valid public point on `curve`, or null. */
export function ecPointProblem(curve: Curve, point: Uint8Array): string | null {
  if (point.length === 1 && point[0] === 0) return 'the EC public key is the point at infinity';
  if (point[0] === 0x02 || point[0] === 0x03) return 'the EC public point is in compressed form; send it uncompressed (0x04 || X || Y)';
  if (point[0] === 0x06 || point[0] === 0x07) return 'the EC public point is in hybrid form; send it uncompressed (0x04 || X || Y)';
  if (point[0] !== 0x04 || point.length !== 1 + 2 * curve.size) {
    return `the EC public point is not a ${1 + 2 * curve.size}-byte uncompressed ${curve.name} point`;
  }
  const x = bytesToBigInt(point.subarray(1, 1 + curve.size));
  const y = bytesToBigInt(point.subarray(1 + curve.size));
  if (x >= curve.p || y >= curve.p) return `the EC public point has a coordinate outside the ${curve.name} field`;
  const left = (y * y) % curve.p;
  const right = (((x * x - 3n) * x + curve.b) % curve.p + curve.p) % curve.p;
  if (left !== right) return `the EC public point is not on the ${curve.name} curve`;
  return null;
}

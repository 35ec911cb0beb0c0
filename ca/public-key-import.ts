/**
 * The one place a subject's public key becomes a node:crypto KeyObject. Issuance imports each
 * subject key once per request: readCsr to verify the CSR's signature, or the key checks for a bare
 * SubjectPublicKeyInfo; the KeyObject is then handed on, never imported again.
 *
 * Why JWK: with the OpenSSL 3.0 in Node 20, importing a DER SPKI goes through the generic decoder,
 * which costs more than an ECDSA verification (~120 µs), while a JWK import of an RSA or Ed25519 key
 * is ~20× cheaper and of a P-256 key ~40 % cheaper. P-384 stays on DER: its JWK import runs a full
 * public-key check that is slower than the decoder. Both paths refuse malformed keys (a point off
 * its curve, a zero modulus), and both give the same key (test/unit/ca/public-key-import.test.ts).
 */
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';

/** The parts of a SubjectPublicKeyInfo a JWK is made of, as the DER readers found them. */
export type PublicKeyParts =
  /** Magnitudes of n and e, without a sign octet. */
  | { kind: 'RSA'; modulus: Buffer; exponent: Buffer }
  /** The uncompressed point 0x04 || X || Y. */
  | { kind: 'EC'; curve: 'P-256' | 'P-384'; point: Buffer }
  | { kind: 'Ed25519'; key: Buffer };

/** Curves imported through a JWK; the others (P-384) through their DER SPKI. */
const JWK_CURVES: ReadonlySet<string> = new Set(['P-256']);

/** The JWK to import these parts through, or null when the DER SPKI is the cheaper path. */
export function publicKeyJwk(parts: PublicKeyParts): JsonWebKey | null {
  switch (parts.kind) {
    case 'RSA':
      return { kty: 'RSA', n: parts.modulus.toString('base64url'), e: parts.exponent.toString('base64url') };
    case 'EC': {
      if (!JWK_CURVES.has(parts.curve)) return null;
      const size = (parts.point.length - 1) / 2;
      return { kty: 'EC', crv: parts.curve, x: parts.point.toString('base64url', 1, 1 + size), y: parts.point.toString('base64url', 1 + size) };
    }
    case 'Ed25519':
      return { kty: 'OKP', crv: 'Ed25519', x: parts.key.toString('base64url') };
  }
}

/**
 * The KeyObject for the SubjectPublicKeyInfo `spkiDer`, whose parts are `parts`; throws (from
 * node:crypto) when OpenSSL refuses the key.
 */
export function importPublicKey(spkiDer: Uint8Array, parts: PublicKeyParts): KeyObject {
  const jwk = publicKeyJwk(parts);
  return jwk ? createPublicKey({ key: jwk, format: 'jwk' }) : createPublicKey({ key: Buffer.from(spkiDer.buffer, spkiDer.byteOffset, spkiDer.byteLength), format: 'der', type: 'spki' });
}

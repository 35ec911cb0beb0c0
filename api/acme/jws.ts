/**
 * The JWS every ACME POST is wrapped in (RFC 8555 §6.2), checked before anything else runs: the
 * flattened JSON serialization only, a protected header with `alg` (ES256, ES384, RS256 or EdDSA,
 * and the one the key is for), `nonce`, `url`, and exactly one of `jwk` (a public key) and `kid`.
 * Pure apart from the signature check (jose); nonces and accounts are the caller's.
 */
import { base64url, calculateJwkThumbprint, flattenedVerify, importJWK, type FlattenedJWS, type JWK } from 'jose';
import { AcmeProblem } from './problem.js';

export const ACME_JWS_ALGORITHMS = ['ES256', 'ES384', 'RS256', 'EdDSA'] as const;
export type AcmeJwsAlgorithm = (typeof ACME_JWS_ALGORITHMS)[number];

/** The largest JWS body accepted (a CSR with a 4096-bit RSA key and many names fits well below). */
export const MAX_JWS_BYTES = 64 * 1024;
const MIN_RSA_MODULUS_BITS = 2048;

export interface ProtectedHeader {
  alg: AcmeJwsAlgorithm;
  /** Empty in the inner JWS of keyChange, which carries none. */
  nonce: string;
  url: string;
  jwk?: JWK;
  kid?: string;
}

export interface ParsedJws {
  jws: FlattenedJWS;
  header: ProtectedHeader;
}

/**
 * Parses the request body into a flattened JWS and its protected header, or throws `malformed`.
 * `inner`: the keyChange JWS inside the payload, which must carry no nonce (RFC 8555 §7.3.5).
 */
export function parseJws(text: string, options: { inner?: boolean } = {}): ParsedJws {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new AcmeProblem('malformed', 'the request body is not JSON; send a JWS in the flattened JSON serialization');
  }
  if (!isRecord(body)) throw new AcmeProblem('malformed', 'the request body must be a JWS object');
  if ('signatures' in body) throw new AcmeProblem('malformed', 'the general JWS serialization is not accepted; use the flattened serialization (RFC 8555 §6.2)');
  if ('header' in body) throw new AcmeProblem('malformed', 'a JWS unprotected header is not accepted (RFC 8555 §6.2)');
  const { protected: protectedPart, payload, signature } = body;
  if (typeof protectedPart !== 'string' || typeof payload !== 'string' || typeof signature !== 'string') {
    throw new AcmeProblem('malformed', 'the JWS must have string "protected", "payload" and "signature" members');
  }
  for (const [name, part] of [['protected', protectedPart], ['payload', payload], ['signature', signature]] as const) {
    if (!/^[A-Za-z0-9_-]*$/.test(part)) throw new AcmeProblem('malformed', `the JWS "${name}" member is not base64url`);
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(base64url.decode(protectedPart)));
  } catch {
    throw new AcmeProblem('malformed', 'the JWS protected header is not base64url-encoded JSON');
  }
  return { jws: { protected: protectedPart, payload, signature }, header: checkHeader(header, options.inner ?? false) };
}

function checkHeader(header: unknown, inner: boolean): ProtectedHeader {
  if (!isRecord(header)) throw new AcmeProblem('malformed', 'the JWS protected header must be a JSON object');
  const { alg, nonce, url, jwk, kid } = header;
  if (typeof alg !== 'string' || !(ACME_JWS_ALGORITHMS as readonly string[]).includes(alg)) {
    throw new AcmeProblem('badSignatureAlgorithm', `the JWS algorithm ${JSON.stringify(alg ?? null)} is not accepted; use one of ${ACME_JWS_ALGORITHMS.join(', ')}`, {
      algorithms: [...ACME_JWS_ALGORITHMS],
    });
  }
  if (inner) {
    if (nonce !== undefined) throw new AcmeProblem('malformed', 'the inner JWS must not carry a "nonce"');
  } else if (typeof nonce !== 'string' || nonce.length === 0) {
    throw new AcmeProblem('badNonce', 'the JWS protected header has no "nonce"; get one from newNonce');
  }
  if (typeof url !== 'string' || url.length === 0) throw new AcmeProblem('malformed', 'the JWS protected header has no "url"');
  if ((jwk === undefined) === (kid === undefined)) throw new AcmeProblem('malformed', 'the JWS protected header must carry exactly one of "jwk" and "kid"');
  if (kid !== undefined && typeof kid !== 'string') throw new AcmeProblem('malformed', 'the JWS "kid" must be an account URL');
  if (jwk !== undefined && !isRecord(jwk)) throw new AcmeProblem('malformed', 'the JWS "jwk" must be a JSON Web Key object');
  if (Array.isArray(header['crit'])) throw new AcmeProblem('malformed', 'the JWS "crit" header is not supported');
  return { alg: alg as AcmeJwsAlgorithm, nonce: typeof nonce === 'string' ? nonce : '', url, ...(jwk !== undefined ? { jwk: jwk as JWK } : {}), ...(kid !== undefined ? { kid: kid as string } : {}) };
}

/**
 * The public part of a client's JWK after checking that it is a public key of a kind `alg` signs
 * with: ES256 P-256, ES384 P-384, RS256 RSA of at least 2048 bits, EdDSA Ed25519.
 */
export function publicAccountJwk(jwk: JWK, alg: AcmeJwsAlgorithm): JWK {
  if ('d' in jwk || 'p' in jwk || 'k' in jwk) throw new AcmeProblem('badPublicKey', 'the JWK must be a public key: it carries private key material');
  const wanted: Record<AcmeJwsAlgorithm, { kty: string; crv?: string }> = {
    ES256: { kty: 'EC', crv: 'P-256' },
    ES384: { kty: 'EC', crv: 'P-384' },
    RS256: { kty: 'RSA' },
    EdDSA: { kty: 'OKP', crv: 'Ed25519' },
  };
  const expected = wanted[alg];
  if (jwk.kty !== expected.kty || (expected.crv !== undefined && jwk.crv !== expected.crv)) {
    throw new AcmeProblem('badSignatureAlgorithm', `the JWS algorithm ${alg} does not match the key (${String(jwk.kty)}${jwk.crv ? ` ${String(jwk.crv)}` : ''})`, {
      algorithms: [...ACME_JWS_ALGORITHMS],
    });
  }
  switch (jwk.kty) {
    case 'EC':
      if (typeof jwk.x !== 'string' || typeof jwk.y !== 'string') throw new AcmeProblem('badPublicKey', 'an EC JWK needs "x" and "y"');
      return { kty: 'EC', crv: jwk.crv!, x: jwk.x, y: jwk.y };
    case 'OKP':
      if (typeof jwk.x !== 'string') throw new AcmeProblem('badPublicKey', 'an OKP JWK needs "x"');
      return { kty: 'OKP', crv: jwk.crv!, x: jwk.x };
    default: {
      if (typeof jwk.n !== 'string' || typeof jwk.e !== 'string') throw new AcmeProblem('badPublicKey', 'an RSA JWK needs "n" and "e"');
      const bits = modulusBits(jwk.n);
      if (bits < MIN_RSA_MODULUS_BITS) throw new AcmeProblem('badPublicKey', `the RSA key has ${bits} bits; at least ${MIN_RSA_MODULUS_BITS} are required`);
      return { kty: 'RSA', n: jwk.n, e: jwk.e };
    }
  }
}

function modulusBits(n: string): number {
  let bytes: Uint8Array;
  try {
    bytes = base64url.decode(n);
  } catch {
    throw new AcmeProblem('badPublicKey', 'the RSA modulus is not base64url');
  }
  let start = 0;
  while (start < bytes.length && bytes[start] === 0) start++;
  if (start === bytes.length) return 0;
  return (bytes.length - start - 1) * 8 + (32 - Math.clz32(bytes[start]!));
}

type ImportedKey = Awaited<ReturnType<typeof importJWK>>;

/**
 * Keys that verified a signature, imported, by algorithm and JWK: an account signs every request with
 * the same key, and importing it (parsing, the EC point check) costs about as much as verifying. Only
 * public keys; only after a good signature (junk keys cannot push the real ones out); the oldest entry
 * goes when the map is full.
 */
const importedKeys = new Map<string, ImportedKey>();
const IMPORTED_KEYS_MAX = 10_000;

/** Verifies the signature with `jwk` (already checked by publicAccountJwk) and returns the payload bytes. */
export async function verifyJwsSignature(jws: FlattenedJWS, jwk: JWK, alg: AcmeJwsAlgorithm): Promise<Uint8Array> {
  const cacheKey = `${alg}:${JSON.stringify(jwk)}`;
  let key = importedKeys.get(cacheKey);
  const imported = !key;
  try {
    key ??= await importJWK(jwk, alg);
  } catch (error) {
    throw new AcmeProblem('badPublicKey', `the JWK cannot be used: ${(error as Error).message}`);
  }
  let payload: Uint8Array;
  try {
    ({ payload } = await flattenedVerify(jws, key, { algorithms: [alg] }));
  } catch {
    throw new AcmeProblem('malformed', 'the JWS signature does not verify with the key');
  }
  if (imported) {
    if (importedKeys.size >= IMPORTED_KEYS_MAX) importedKeys.delete(importedKeys.keys().next().value!);
    importedKeys.set(cacheKey, key);
  }
  return payload;
}

/** The payload as JSON, or null for POST-as-GET (an empty payload, RFC 8555 §6.3). */
export function payloadJson(payload: Uint8Array): unknown {
  if (payload.length === 0) return null;
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch {
    throw new AcmeProblem('malformed', 'the JWS payload is not JSON');
  }
}

export function jwkThumbprint(jwk: JWK): Promise<string> {
  return calculateJwkThumbprint(jwk, 'sha256');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A deliberately small ACME request signer for protocol tests that need to send what no real client
 * would (hostile JWS): it signs exactly the header and payload it is given. Real clients (lego,
 * certbot, cert-manager's) are driven elsewhere; this is for the edges.
 */
import { base64url, calculateJwkThumbprint, exportJWK, FlattenedSign, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { createHmac } from 'node:crypto';

export interface AcmeKey {
  alg: 'ES256' | 'ES384' | 'RS256' | 'EdDSA';
  privateKey: CryptoKey;
  jwk: JWK;
}

export async function newAcmeKey(alg: AcmeKey['alg'] = 'ES256'): Promise<AcmeKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, alg === 'EdDSA' ? { crv: 'Ed25519', extractable: true } : { extractable: true });
  return { alg, privateKey, jwk: await exportJWK(publicKey) };
}

export function thumbprint(key: AcmeKey): Promise<string> {
  return calculateJwkThumbprint(key.jwk, 'sha256');
}

/** A flattened JWS over `payload` (a string is sent as is: '' is POST-as-GET) with exactly `header` as protected header. */
export async function signJws(key: AcmeKey, header: Record<string, unknown>, payload: unknown): Promise<Record<string, string>> {
  const bytes = new TextEncoder().encode(typeof payload === 'string' ? payload : JSON.stringify(payload));
  return (await new FlattenedSign(bytes).setProtectedHeader({ alg: key.alg, ...header } as { alg: string }).sign(key.privateKey)) as unknown as Record<string, string>;
}

/** A JWS with a header and signature of one's choosing (alg "none", HMACs): no key checks at all. */
export function rawJws(header: Record<string, unknown>, payload: unknown, signature: (input: string) => string): Record<string, string> {
  const protectedPart = base64url.encode(JSON.stringify(header));
  const payloadPart = base64url.encode(typeof payload === 'string' ? payload : JSON.stringify(payload));
  return { protected: protectedPart, payload: payloadPart, signature: signature(`${protectedPart}.${payloadPart}`) };
}

export function hmacSignature(key: Buffer): (input: string) => string {
  return (input) => createHmac('sha256', key).update(input).digest('base64url');
}

/** The externalAccountBinding member of a newAccount payload (RFC 8555 §7.3.4). */
export function externalAccountBinding(key: AcmeKey, eab: { keyId: string; hmacKey: string }, url: string): Record<string, string> {
  return rawJws({ alg: 'HS256', kid: eab.keyId, url }, key.jwk, hmacSignature(Buffer.from(eab.hmacKey, 'base64url')));
}

/**
 * ACME key authorizations (RFC 8555 §8.1) and the digests the challenges carry: the dns-01 TXT value
 * (§8.4) and the tls-alpn-01 acmeIdentifier (RFC 8737 §3). Pure: the protocol layer computes what
 * it expects, the validation activity compares it with what the client's server shows.
 */
import { encodeBase64url } from './base64url.js';
import { sha256 } from './sha256.js';

export class KeyAuthorizationError extends Error {
  override name = 'KeyAuthorizationError';
}

/** At least 128 bits of entropy (§8.3): 22 base64url characters carry 132. */
export const MIN_TOKEN_LENGTH = 22;

/** A challenge token: unpadded base64url, long enough to carry 128 bits. */
export function isValidToken(token: string): boolean {
  return token.length >= MIN_TOKEN_LENGTH && /^[A-Za-z0-9_-]+$/.test(token);
}

/** An RFC 7638 thumbprint under SHA-256 (§8.1), base64url: 32 octets are 43 characters. */
const JWK_THUMBPRINT = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;

/** `token "." base64url(JWK_Thumbprint(accountKey))`. */
export function keyAuthorization(token: string, jwkThumbprint: string): string {
  if (!isValidToken(token)) throw new KeyAuthorizationError(`the token must be at least ${MIN_TOKEN_LENGTH} base64url characters without padding`);
  if (!JWK_THUMBPRINT.test(jwkThumbprint)) throw new KeyAuthorizationError('the account key thumbprint must be a SHA-256 JWK thumbprint in base64url (43 characters)');
  return `${token}.${jwkThumbprint}`;
}

/** SHA-256 of the key authorization's octets: what an acmeIdentifier extension holds (RFC 8737 §3). */
export function keyAuthorizationDigest(keyAuthorization: string): Uint8Array {
  return sha256(new TextEncoder().encode(keyAuthorization));
}

/** The TXT record value of a dns-01 challenge: base64url(SHA-256(keyAuthorization)) (§8.4). */
export function dns01TxtValue(keyAuthorization: string): string {
  return encodeBase64url(keyAuthorizationDigest(keyAuthorization));
}

/**
 * Where each ACME challenge looks for its proof, from the identifier being validated: the http-01
 * path (RFC 8555 §8.3), the dns-01 record name (§8.4) and the tls-alpn-01 SNI name (RFC 8737 §3,
 * RFC 8738 §6 for IP addresses); and which challenge can validate which identifier at all.
 */
import { canonicalizeIp, ipToOctets } from './ip.js';
import { canonicalizeDnsName, isWildcard } from './names.js';

import type { AcmeIdentifier, ChallengeType } from './acme-order.js';

export type { AcmeIdentifier } from './acme-order.js';
export type AcmeChallengeType = ChallengeType;

export class AcmeChallengeTargetError extends Error {
  override name = 'AcmeChallengeTargetError';
}

/**
 * The identifier in canonical form, when `type` can validate it; throws AcmeChallengeTargetError
 * when it cannot (a wildcard by anything but dns-01, RFC 8555 §7.1.3; an IP address by dns-01,
 * RFC 8738 §7) or the value is not a DNS name or IP address.
 */
export function challengeIdentifier(type: AcmeChallengeType, identifier: AcmeIdentifier): AcmeIdentifier {
  let value: string;
  try {
    value = identifier.type === 'ip' ? canonicalizeIp(identifier.value) : canonicalizeDnsName(identifier.value);
  } catch (error) {
    throw new AcmeChallengeTargetError((error as Error).message);
  }
  if (identifier.type === 'ip' && type === 'dns-01') throw new AcmeChallengeTargetError('dns-01 cannot validate an IP address identifier (RFC 8738 §7)');
  if (identifier.type === 'dns' && isWildcard(value) && type !== 'dns-01') throw new AcmeChallengeTargetError(`${type} cannot validate a wildcard name; only dns-01 can`);
  return { type: identifier.type, value };
}

/** `/.well-known/acme-challenge/<token>`. */
export function http01Path(token: string): string {
  return `/.well-known/acme-challenge/${token}`;
}

/** `_acme-challenge.<name>`; a wildcard is validated at its base name (`*.example.com` → `_acme-challenge.example.com`). */
export function dns01RecordName(name: string): string {
  return `_acme-challenge.${isWildcard(name) ? name.slice(2) : name}`;
}

/**
 * The SNI host name of a tls-alpn-01 handshake: the DNS name itself, or for an IP address its
 * reverse-mapping name (RFC 8738 §6; SNI carries no IP addresses): `1.2.0.192.in-addr.arpa`,
 * `…8.b.d.0.1.0.0.2.ip6.arpa`.
 */
export function tlsAlpnServerName(identifier: AcmeIdentifier): string {
  if (identifier.type === 'dns') return identifier.value;
  const octets = ipToOctets(canonicalizeIp(identifier.value));
  if (octets.length === 4) return `${[...octets].reverse().join('.')}.in-addr.arpa`;
  const nibbles = [...octets].flatMap((octet) => [octet >> 4, octet & 0x0f]);
  return `${nibbles.reverse().map((nibble) => nibble.toString(16)).join('.')}.ip6.arpa`;
}

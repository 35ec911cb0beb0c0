/**
 * ACME order, authorization and challenge states (RFC 8555 §7.1.6) and the transitions between them.
 * Pure: api/acme/ stores what these functions decide.
 *
 *   order:         pending → ready → processing → valid;  any of them → invalid
 *   authorization: pending → valid | invalid;  valid → deactivated | revoked;  pending/valid → expired
 *   challenge:     pending → processing → valid | invalid
 */

export const ORDER_STATUSES = ['pending', 'ready', 'processing', 'valid', 'invalid'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const AUTHORIZATION_STATUSES = ['pending', 'valid', 'invalid', 'deactivated', 'expired', 'revoked'] as const;
export type AuthorizationStatus = (typeof AUTHORIZATION_STATUSES)[number];

export const CHALLENGE_STATUSES = ['pending', 'processing', 'valid', 'invalid'] as const;
export type ChallengeStatus = (typeof CHALLENGE_STATUSES)[number];

export const CHALLENGE_TYPES = ['http-01', 'dns-01', 'tls-alpn-01'] as const;
export type ChallengeType = (typeof CHALLENGE_TYPES)[number];

export const ACCOUNT_STATUSES = ['valid', 'deactivated', 'revoked'] as const;
export type AccountStatus = (typeof ACCOUNT_STATUSES)[number];

/** An ACME identifier (RFC 8555 §9.7.7): a DNS name, or an IP address (RFC 8738). */
export interface AcmeIdentifier {
  type: 'dns' | 'ip';
  value: string;
}

/** How long a pending order and its authorizations may wait for challenges and finalization. */
export const ORDER_LIFETIME_SECONDS = 7 * 86_400;
/** How long a valid authorization stays usable (only within its order here: authorizations are not reused across orders). */
export const AUTHORIZATION_LIFETIME_SECONDS = 30 * 86_400;

/** The status an authorization has at `now`: a pending or valid one past its expiry is expired. */
export function authorizationStatusAt(status: AuthorizationStatus, expiresAt: Date, now: Date): AuthorizationStatus {
  if ((status === 'pending' || status === 'valid') && now.getTime() >= expiresAt.getTime()) return 'expired';
  return status;
}

/**
 * The status an order has at `now`, from its stored status and its authorizations' (RFC 8555
 * §7.1.6): processing, valid and invalid are decided elsewhere and kept; a pending or ready order
 * past its expiry is invalid; one failed authorization fails the order; all valid make it ready.
 */
export function orderStatusAt(stored: OrderStatus, expiresAt: Date, authorizations: readonly AuthorizationStatus[], now: Date): OrderStatus {
  if (stored === 'processing' || stored === 'valid' || stored === 'invalid') return stored;
  if (now.getTime() >= expiresAt.getTime()) return 'invalid';
  if (authorizations.some((status) => status !== 'pending' && status !== 'valid')) return 'invalid';
  return authorizations.length > 0 && authorizations.every((status) => status === 'valid') ? 'ready' : 'pending';
}

/** Why a challenge may not be answered now, or null when it may (RFC 8555 §7.5.1: answering twice is harmless). */
export function challengeAnswerRefusal(challenge: ChallengeStatus, authorization: AuthorizationStatus): string | null {
  if (authorization !== 'pending') return `the authorization is ${authorization}; its challenges can no longer be answered`;
  if (challenge === 'invalid') return 'the challenge has failed; start a new order';
  return null;
}

/** The identifier an authorization is for: a wildcard order's authorization names the base domain (RFC 8555 §7.1.4). */
export function authorizationIdentifier(identifier: AcmeIdentifier): { identifier: AcmeIdentifier; wildcard: boolean } {
  if (identifier.type === 'dns' && identifier.value.startsWith('*.')) return { identifier: { type: 'dns', value: identifier.value.slice(2) }, wildcard: true };
  return { identifier, wildcard: false };
}

/** The challenge types offered for an identifier: no http-01 or tls-alpn-01 for wildcards (§7.1.3), no dns-01 for IP addresses (RFC 8738). */
export function offeredChallengeTypes(identifier: AcmeIdentifier, wildcard: boolean, allowed: readonly ChallengeType[]): ChallengeType[] {
  return allowed.filter((type) => {
    if (wildcard) return type === 'dns-01';
    if (identifier.type === 'ip') return type !== 'dns-01';
    return true;
  });
}

/** Identifiers compared as sets, case-insensitively (RFC 8555 §7.4: the CSR must name exactly the order's identifiers). */
export function sameIdentifiers(a: readonly AcmeIdentifier[], b: readonly AcmeIdentifier[]): boolean {
  const key = (identifier: AcmeIdentifier) => `${identifier.type}:${identifier.value.toLowerCase()}`;
  const left = new Set(a.map(key));
  const right = new Set(b.map(key));
  return left.size === right.size && [...left].every((value) => right.has(value));
}

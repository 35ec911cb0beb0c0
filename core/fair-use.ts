/**
 * Fair use: per-team quotas and the floors that keep renewals from looping. Pure decisions over
 * counts the API gathers (under a per-team lock, so concurrent requests count each other).
 *
 * Quotas govern what people ask for through the API. Timer renewals and incident reissues (bulk
 * reissue, issuer compromise, a responder's renew) keep existing certificates alive and are never
 * refused by a quota.
 */
import type { TeamQuotas } from './policy.js';

/** The shortest validity any request may have unless the operator configures another floor. */
export const DEFAULT_PLATFORM_MIN_VALIDITY_SECONDS = 3600;
/** At least this fraction of a certificate's validity passes between its issuance and its renewal. */
export const MIN_RENEWAL_INTERVAL_FRACTION = 0.1;
export const RENEWAL_QUOTA_WINDOW_SECONDS = 3600;

export interface FieldRefusal {
  field: 'validity' | 'renewBefore';
  message: string;
}

/** Why validity and renewBefore are refused, or []: below the floor, or renewing so early that renewals would follow each other. */
export function validityRefusals(validitySeconds: number, renewBeforeSeconds: number | null, floorSeconds: number): FieldRefusal[] {
  const refusals: FieldRefusal[] = [];
  if (validitySeconds < floorSeconds) {
    refusals.push({ field: 'validity', message: `validity must be at least ${floorSeconds} s (the platform's floor); got ${validitySeconds} s` });
  }
  if (renewBeforeSeconds !== null) {
    const latest = Math.floor(validitySeconds * (1 - MIN_RENEWAL_INTERVAL_FRACTION));
    if (renewBeforeSeconds > latest) {
      refusals.push({
        field: 'renewBefore',
        message: `renewBefore must leave at least ${MIN_RENEWAL_INTERVAL_FRACTION * 100} % of the validity between issuance and renewal (at most ${latest} s for a validity of ${validitySeconds} s), or renewals would follow each other; got ${renewBeforeSeconds} s`,
      });
    }
  }
  return refusals;
}

export interface QuotaRefusal {
  quota: keyof TeamQuotas;
  limit: number;
  current: number;
  message: string;
  /** For rate-like quotas: when a request would be accepted again. */
  retryAfterSeconds?: number;
}

/** A new certificate beyond maxActiveCertificates is refused; `active` counts the team's live certificates. */
export function activeCertificatesRefusal(quotas: TeamQuotas | undefined, active: number): QuotaRefusal | null {
  const limit = quotas?.maxActiveCertificates;
  if (limit === undefined || active < limit) return null;
  return {
    quota: 'maxActiveCertificates',
    limit,
    current: active,
    message: `the team has ${active} active certificates and its quota is ${limit}; decommission or revoke one, or ask a platform admin to raise the quota`,
  };
}

/**
 * A renewal asked for through the API beyond maxRenewalsPerHour in the sliding hour is refused;
 * `recent` are the times of the team's accepted renewal requests in the hour before `now`.
 */
export function renewalRateRefusal(quotas: TeamQuotas | undefined, recent: readonly Date[], now: Date): QuotaRefusal | null {
  const limit = quotas?.maxRenewalsPerHour;
  const windowStart = now.getTime() - RENEWAL_QUOTA_WINDOW_SECONDS * 1000;
  const inWindow = recent.map((at) => at.getTime()).filter((at) => at > windowStart).sort((a, b) => a - b);
  if (limit === undefined || inWindow.length < limit) return null;
  // The request is accepted again once enough of the oldest ones have left the window.
  const freesAt = limit === 0 ? now.getTime() + RENEWAL_QUOTA_WINDOW_SECONDS * 1000 : inWindow[inWindow.length - limit]! + RENEWAL_QUOTA_WINDOW_SECONDS * 1000;
  return {
    quota: 'maxRenewalsPerHour',
    limit,
    current: inWindow.length,
    retryAfterSeconds: Math.max(1, Math.ceil((freesAt - now.getTime()) / 1000)),
    message: `the team asked for ${inWindow.length} renewals in the last hour and its quota is ${limit} an hour; timer renewals and incident reissues are not affected`,
  };
}

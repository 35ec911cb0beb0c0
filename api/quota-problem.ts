/**
 * A fair-use refusal as a problem (`/problems/quota-exceeded`, with `quota`, `limit`, `current`).
 * A cap on what a team holds is a state the team can change (revoke, decommission): 409. A rate is
 * "too many requests" (RFC 6585 §4): 429, with Retry-After saying when the next one is accepted.
 */
import type { QuotaRefusal } from '../core/fair-use.js';
import { ProblemError } from './problem.js';

export function quotaExceeded(refusal: QuotaRefusal): ProblemError {
  const rate = refusal.retryAfterSeconds !== undefined;
  return new ProblemError(rate ? 429 : 409, 'quota-exceeded', 'Team quota exceeded', refusal.message, {
    quota: refusal.quota,
    limit: refusal.limit,
    current: refusal.current,
    ...(rate ? { retryAfterSeconds: refusal.retryAfterSeconds } : {}),
  });
}

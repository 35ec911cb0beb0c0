/**
 * Rate limit (issue 11 §9): a token bucket per accountable principal, kept in this process, so the
 * limit holds per API replica. Over the limit: `429` problem with `Retry-After`. Runs after
 * authentication, so unauthenticated requests are not counted here. Revocations are never limited:
 * a leaked token flooding the API must not keep its owner from revoking it (or a certificate).
 */
import { createMiddleware } from 'hono/factory';
import { takeToken, type Bucket } from '../core/token-bucket.js';
import type { AppEnv, RateLimitConfig } from './deps.js';
import { problemResponse, problems } from './problem.js';

/** Buckets idle this long are full again and can be forgotten. */
const SWEEP_EVERY = 10_000;

export function rateLimitPerToken(limit: RateLimitConfig, now: () => number = Date.now) {
  const buckets = new Map<string, Bucket>();
  let requests = 0;
  return createMiddleware<AppEnv>(async (c, next) => {
    if (isRevocation(c.req.method, c.req.path)) return next();
    // Per accountable principal: minting more tokens does not buy more requests.
    const key = c.get('principal').accountableId;
    const at = now();
    const result = takeToken(buckets.get(key), at, limit);
    buckets.set(key, result.bucket);
    if (++requests % SWEEP_EVERY === 0) sweep(buckets, at, limit);
    if (!result.allowed) {
      c.header('Retry-After', String(result.retryAfterSeconds));
      return problemResponse(c, problems.rateLimited(`the requests of this principal (all its tokens) may come at ${limit.perSecond} per second (bursts of ${limit.burst}); retry after ${result.retryAfterSeconds} s`));
    }
    await next();
  });
}

/** DELETE of a token, agent or principal, and a certificate's revoke: what shuts a leak off. */
function isRevocation(method: string, path: string): boolean {
  return method === 'DELETE' || (method === 'POST' && /^\/v1\/certificates\/[^/]+\/revoke$/.test(path));
}

/** Forgets buckets idle long enough to be full again. */
export function sweep(buckets: Map<string, Bucket>, at: number, limit: RateLimitConfig): void {
  const refillMs = (limit.burst / limit.perSecond) * 1000;
  for (const [key, bucket] of buckets) if (at - bucket.at > refillMs) buckets.delete(key);
}

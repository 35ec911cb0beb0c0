/**
 * Per-token rate limit (issue 11 §9): a token bucket per API token, kept in this process, so the
 * limit holds per API replica. Over the limit: `429` problem with `Retry-After`. Runs after
 * authentication (the key is the token id), so unauthenticated requests are not counted here.
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
    // Per accountable principal: minting more tokens does not buy more requests.
    const key = c.get('principal').accountableId;
    const at = now();
    const result = takeToken(buckets.get(key), at, limit);
    buckets.set(key, result.bucket);
    if (++requests % SWEEP_EVERY === 0) sweep(buckets, at, limit);
    if (!result.allowed) {
      c.header('Retry-After', String(result.retryAfterSeconds));
      return problemResponse(c, problems.rateLimited(`this token may make ${limit.perSecond} requests per second (bursts of ${limit.burst}); retry after ${result.retryAfterSeconds} s`));
    }
    await next();
  });
}

function sweep(buckets: Map<string, Bucket>, at: number, limit: RateLimitConfig): void {
  const refillMs = (limit.burst / limit.perSecond) * 1000;
  for (const [key, bucket] of buckets) if (at - bucket.at > refillMs) buckets.delete(key);
}

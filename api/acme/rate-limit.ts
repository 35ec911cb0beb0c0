/**
 * The platform's request rate limit (CERTFLOW_RATE_LIMIT_*, api/rate-limit.ts) for ACME: one token
 * bucket per team for all its accounts (registering more accounts buys no more requests), taken
 * only by requests whose signature checked out, so nobody can spend another team's budget.
 * Revocations are never limited.
 */
import { takeToken, type Bucket } from '../../core/token-bucket.js';
import type { RateLimitConfig } from '../deps.js';
import { sweep } from '../rate-limit.js';
import { AcmeProblem } from './problem.js';

const SWEEP_EVERY = 10_000;

export class AcmeRateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private requests = 0;

  constructor(private readonly limit: RateLimitConfig) {}

  take(key: string, at: number): void {
    const result = takeToken(this.buckets.get(key), at, this.limit);
    this.buckets.set(key, result.bucket);
    if (++this.requests % SWEEP_EVERY === 0) sweep(this.buckets, at, this.limit);
    if (!result.allowed) {
      throw new AcmeProblem('rateLimited', `the accounts of this team may send ${this.limit.perSecond} requests per second (bursts of ${this.limit.burst}); retry after ${result.retryAfterSeconds} s`, {
        retryAfterSeconds: result.retryAfterSeconds,
      });
    }
  }
}

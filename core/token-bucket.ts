/**
 * A token bucket as a pure function: `burst` requests at once, refilled continuously at
 * `perSecond`. The caller keeps one bucket per key and the clock.
 */
export interface Bucket {
  tokens: number;
  /** Milliseconds since the epoch of the last refill. */
  at: number;
}

export type TakeResult = { allowed: true; bucket: Bucket } | { allowed: false; bucket: Bucket; retryAfterSeconds: number };

export function takeToken(bucket: Bucket | undefined, now: number, limit: { perSecond: number; burst: number }): TakeResult {
  const elapsed = bucket ? Math.max(0, now - bucket.at) / 1000 : 0;
  const tokens = bucket ? Math.min(limit.burst, bucket.tokens + elapsed * limit.perSecond) : limit.burst;
  if (tokens >= 1) return { allowed: true, bucket: { tokens: tokens - 1, at: now } };
  // Whole seconds (Retry-After is delay-seconds), at least 1.
  const retryAfterSeconds = Math.max(1, Math.ceil((1 - tokens) / limit.perSecond));
  return { allowed: false, bucket: { tokens, at: now }, retryAfterSeconds };
}

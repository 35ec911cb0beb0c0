import { describe, expect, it } from 'vitest';
import { takeToken, type Bucket } from '../../../core/token-bucket.js';

const limit = { perSecond: 2, burst: 3 };

describe('takeToken', () => {
  const cases: { name: string; bucket: Bucket | undefined; now: number; allowed: boolean; tokens?: number; retryAfterSeconds?: number }[] = [
    { name: 'ok/first request starts with a full bucket', bucket: undefined, now: 1_000, allowed: true, tokens: 2 },
    { name: 'ok/last token of the burst', bucket: { tokens: 1, at: 1_000 }, now: 1_000, allowed: true, tokens: 0 },
    { name: 'ok/refilled after half a second', bucket: { tokens: 0, at: 1_000 }, now: 1_500, allowed: true, tokens: 0 },
    { name: 'ok/refill is capped at the burst', bucket: { tokens: 0, at: 0 }, now: 1_000_000, allowed: true, tokens: 2 },
    { name: 'fail/empty bucket', bucket: { tokens: 0, at: 1_000 }, now: 1_000, allowed: false, retryAfterSeconds: 1 },
    { name: 'fail/not yet a whole token', bucket: { tokens: 0, at: 1_000 }, now: 1_400, allowed: false, retryAfterSeconds: 1 },
    { name: 'fail/clock going back refills nothing', bucket: { tokens: 0.5, at: 2_000 }, now: 1_000, allowed: false, retryAfterSeconds: 1 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const result = takeToken(c.bucket, c.now, limit);
      expect(result.allowed).toBe(c.allowed);
      if (c.tokens !== undefined) expect(result.bucket.tokens).toBeCloseTo(c.tokens);
      if (!result.allowed) expect(result.retryAfterSeconds).toBe(c.retryAfterSeconds);
    });
  }

  it('fail/slow refill asks to wait several seconds', () => {
    const result = takeToken({ tokens: 0, at: 0 }, 0, { perSecond: 0.25, burst: 1 });
    expect(result).toMatchObject({ allowed: false, retryAfterSeconds: 4 });
  });
});

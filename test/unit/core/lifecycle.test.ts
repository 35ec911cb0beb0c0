import { describe, expect, it } from 'vitest';
import { retryBackoffMs } from '../../../core/lifecycle.js';

const CAP_MS = 15 * 60_000;

describe('retryBackoffMs', () => {
  const cases: { name: string; attempt: number; want: number }[] = [
    { name: 'ok/attempt 0 starts at 30 s', attempt: 0, want: 30_000 },
    { name: 'ok/attempt 1 is 30 s', attempt: 1, want: 30_000 },
    { name: 'ok/attempt 2 doubles', attempt: 2, want: 60_000 },
    { name: 'ok/attempt 3', attempt: 3, want: 120_000 },
    { name: 'ok/attempt 4', attempt: 4, want: 240_000 },
    { name: 'ok/attempt 5', attempt: 5, want: 480_000 },
    { name: 'ok/attempt 6 is capped', attempt: 6, want: CAP_MS },
    { name: 'ok/attempt 50 is capped', attempt: 50, want: CAP_MS },
    { name: 'ok/attempt 5000 is capped', attempt: 5000, want: CAP_MS },
    { name: 'ok/negative attempt starts at 30 s', attempt: -3, want: 30_000 },
  ];
  it.each(cases)('$name', ({ attempt, want }) => {
    expect(retryBackoffMs(attempt)).toBe(want);
  });

  it('ok/never decreases and never exceeds 15 min', () => {
    let previous = 0;
    for (let attempt = 1; attempt <= 100; attempt++) {
      const backoff = retryBackoffMs(attempt);
      expect(backoff).toBeGreaterThanOrEqual(previous);
      expect(backoff).toBeLessThanOrEqual(CAP_MS);
      previous = backoff;
    }
    expect(previous).toBe(CAP_MS);
  });
});

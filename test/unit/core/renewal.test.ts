import { describe, expect, it } from 'vitest';
import { jitterFraction, MAX_JITTER_FRACTION, renewalTime, type RenewalTimeInput } from '../../../core/renewal.js';

const DAY_MS = 86_400_000;
const issuedAt = new Date('2025-03-01T12:00:00.000Z');
const after = (ms: number): Date => new Date(issuedAt.getTime() + ms);
const input = (overrides: Partial<RenewalTimeInput> = {}): RenewalTimeInput => ({
  issuedAt,
  notAfter: after(90 * DAY_MS),
  certificateId: 'crt_01',
  generation: 1,
  ...overrides,
});

/** Offset of the renewal time from issuedAt, in ms. */
const offsetOf = (value: RenewalTimeInput): number => renewalTime(value).getTime() - value.issuedAt.getTime();

describe('renewalTime default (2/3 of the lifetime, minus up to 5 % jitter)', () => {
  const cases: { name: string; lifetimeMs: number; certificateId: string; generation: number }[] = [
    { name: 'ok/90 days', lifetimeMs: 90 * DAY_MS, certificateId: 'crt_01', generation: 1 },
    { name: 'ok/90 days, another id', lifetimeMs: 90 * DAY_MS, certificateId: 'crt_02', generation: 1 },
    { name: 'ok/90 days, generation 7', lifetimeMs: 90 * DAY_MS, certificateId: 'crt_01', generation: 7 },
    { name: 'ok/398 days', lifetimeMs: 398 * DAY_MS, certificateId: 'crt_long', generation: 3 },
    { name: 'ok/1 hour', lifetimeMs: 3_600_000, certificateId: 'crt_short', generation: 1 },
    { name: 'ok/15 seconds', lifetimeMs: 15_000, certificateId: 'crt_tiny', generation: 2 },
    { name: 'ok/empty id', lifetimeMs: 24 * 3_600_000, certificateId: '', generation: 1 },
  ];
  it.each(cases)('$name', ({ lifetimeMs, certificateId, generation }) => {
    const value = input({ notAfter: after(lifetimeMs), certificateId, generation });
    const offset = offsetOf(value);
    const twoThirds = (2 * lifetimeMs) / 3;
    // Math.floor may move the result at most 1 ms below the exact value.
    expect(offset).toBeGreaterThanOrEqual(twoThirds - MAX_JITTER_FRACTION * lifetimeMs - 1);
    expect(offset).toBeLessThanOrEqual(twoThirds);
    expect(renewalTime(value)).toEqual(renewalTime({ ...value }));
  });

  it('ok/jitter is exactly jitterFraction(id/generation) × 5 % of the lifetime', () => {
    const lifetimeMs = 90 * DAY_MS;
    const expected = Math.floor(issuedAt.getTime() + lifetimeMs - lifetimeMs / 3 - jitterFraction('crt_01/1') * 0.05 * lifetimeMs);
    expect(renewalTime(input()).getTime()).toBe(expected);
  });

  it('ok/deterministic for the same certificateId and generation', () => {
    const first = renewalTime(input({ certificateId: 'crt_same', generation: 4 }));
    for (let i = 0; i < 5; i++) {
      expect(renewalTime(input({ certificateId: 'crt_same', generation: 4 })).getTime()).toBe(first.getTime());
    }
  });

  it('ok/differs across certificate ids (100 ids give more than 50 distinct times)', () => {
    const times = new Set(Array.from({ length: 100 }, (_, i) => renewalTime(input({ certificateId: `crt_${i}` })).getTime()));
    expect(times.size).toBeGreaterThan(50);
  });

  it('ok/differs across generations of one certificate', () => {
    const times = new Set(Array.from({ length: 20 }, (_, i) => renewalTime(input({ generation: i + 1 })).getTime()));
    expect(times.size).toBeGreaterThan(10);
  });
});

describe('renewalTime with renewBeforeSeconds', () => {
  const cases: { name: string; lifetimeMs: number; renewBeforeSeconds: number | null | undefined; wantLow: number; wantHigh: number }[] = [
    // renewal = notAfter − renewBefore − jitter, jitter < 5 % of the lifetime
    { name: 'ok/30 days before a 90-day expiry', lifetimeMs: 90 * DAY_MS, renewBeforeSeconds: 30 * 86_400, wantLow: 60 * DAY_MS - 4.5 * DAY_MS, wantHigh: 60 * DAY_MS },
    { name: 'ok/1 day before a 90-day expiry', lifetimeMs: 90 * DAY_MS, renewBeforeSeconds: 86_400, wantLow: 89 * DAY_MS - 4.5 * DAY_MS, wantHigh: 89 * DAY_MS },
    { name: 'ok/10 s before a 1-hour expiry', lifetimeMs: 3_600_000, renewBeforeSeconds: 10, wantLow: 3_590_000 - 180_000, wantHigh: 3_590_000 },
    { name: 'ok/null falls back to 2/3', lifetimeMs: 90 * DAY_MS, renewBeforeSeconds: null, wantLow: 60 * DAY_MS - 4.5 * DAY_MS, wantHigh: 60 * DAY_MS },
    { name: 'ok/undefined falls back to 2/3', lifetimeMs: 90 * DAY_MS, renewBeforeSeconds: undefined, wantLow: 60 * DAY_MS - 4.5 * DAY_MS, wantHigh: 60 * DAY_MS },
    { name: 'ok/0 falls back to 2/3', lifetimeMs: 90 * DAY_MS, renewBeforeSeconds: 0, wantLow: 60 * DAY_MS - 4.5 * DAY_MS, wantHigh: 60 * DAY_MS },
    { name: 'ok/> lifetime renews at issuance', lifetimeMs: DAY_MS, renewBeforeSeconds: 2 * 86_400, wantLow: 0, wantHigh: 0 },
    { name: 'ok/= lifetime renews at issuance', lifetimeMs: DAY_MS, renewBeforeSeconds: 86_400, wantLow: 0, wantHigh: 0 },
    { name: 'ok/negative clamped to 0', lifetimeMs: DAY_MS, renewBeforeSeconds: -3600, wantLow: DAY_MS - 0.05 * DAY_MS, wantHigh: DAY_MS },
  ];
  it.each(cases)('$name', ({ lifetimeMs, renewBeforeSeconds, wantLow, wantHigh }) => {
    const offset = offsetOf(input({ notAfter: after(lifetimeMs), renewBeforeSeconds }));
    expect(offset).toBeGreaterThanOrEqual(Math.floor(wantLow));
    expect(offset).toBeLessThanOrEqual(wantHigh);
  });
});

describe('renewalTime bounds', () => {
  const cases: { name: string; lifetimeMs: number; renewBeforeSeconds?: number }[] = [
    { name: 'ok/zero lifetime', lifetimeMs: 0 },
    { name: 'ok/negative lifetime', lifetimeMs: -DAY_MS },
    { name: 'ok/1 ms lifetime', lifetimeMs: 1 },
    { name: 'ok/huge renewBefore', lifetimeMs: 90 * DAY_MS, renewBeforeSeconds: 10 ** 9 },
    { name: 'ok/tiny renewBefore', lifetimeMs: 90 * DAY_MS, renewBeforeSeconds: 1 },
  ];
  it.each(cases)('$name', ({ lifetimeMs, renewBeforeSeconds }) => {
    const notAfter = after(lifetimeMs);
    for (let i = 0; i < 50; i++) {
      const at = renewalTime(input({ notAfter, renewBeforeSeconds, certificateId: `crt_${i}` })).getTime();
      expect(at).toBeGreaterThanOrEqual(issuedAt.getTime());
      if (lifetimeMs >= 0) expect(at).toBeLessThanOrEqual(notAfter.getTime());
    }
  });

  it('ok/a non-positive lifetime renews at issuedAt', () => {
    expect(renewalTime(input({ notAfter: issuedAt })).getTime()).toBe(issuedAt.getTime());
    expect(renewalTime(input({ notAfter: after(-1) })).getTime()).toBe(issuedAt.getTime());
  });
});

describe('jitterFraction', () => {
  const keys = ['', 'a', 'crt_01/1', 'crt_01/2', '\u{10ffff}', 'x'.repeat(10_000), ...Array.from({ length: 1000 }, (_, i) => `crt_${i}/${i % 7}`)];
  it.each(keys.slice(0, 6).map((key, i) => ({ name: `ok/key #${i}`, key })))('$name', ({ key }) => {
    const fraction = jitterFraction(key);
    expect(fraction).toBeGreaterThanOrEqual(0);
    expect(fraction).toBeLessThan(1);
    expect(jitterFraction(key)).toBe(fraction);
  });

  it('ok/1000 keys stay in [0, 1) and spread over the interval', () => {
    const fractions = keys.map(jitterFraction);
    for (const fraction of fractions) {
      expect(fraction).toBeGreaterThanOrEqual(0);
      expect(fraction).toBeLessThan(1);
    }
    const buckets = new Set(fractions.map((f) => Math.floor(f * 10)));
    expect(buckets.size).toBe(10);
  });

  it('ok/FNV-1a offset basis for the empty key', () => {
    expect(jitterFraction('')).toBe(0x811c9dc5 / 2 ** 32);
  });
});

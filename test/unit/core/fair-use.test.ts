import { describe, expect, it } from 'vitest';
import { activeCertificatesRefusal, renewalRateRefusal, validityRefusals } from '../../../core/fair-use.js';

describe('validityRefusals', () => {
  const cases: { name: string; validity: number; renewBefore: number | null; floor: number; want: string[] }[] = [
    { name: 'ok/at the floor', validity: 3600, renewBefore: null, floor: 3600, want: [] },
    { name: 'ok/renewBefore leaving exactly 10 %', validity: 1000, renewBefore: 900, floor: 60, want: [] },
    { name: 'fail/below the floor', validity: 3599, renewBefore: null, floor: 3600, want: ['validity'] },
    { name: 'fail/renewBefore leaving less than 10 % (a renewal loop)', validity: 1000, renewBefore: 901, floor: 60, want: ['renewBefore'] },
    { name: 'fail/renewBefore equal to validity', validity: 86_400, renewBefore: 86_400, floor: 60, want: ['renewBefore'] },
    { name: 'fail/both', validity: 100, renewBefore: 99, floor: 3600, want: ['validity', 'renewBefore'] },
  ];
  it.each(cases)('$name', (tc) => {
    expect(validityRefusals(tc.validity, tc.renewBefore, tc.floor).map((refusal) => refusal.field)).toEqual(tc.want);
  });
});

describe('activeCertificatesRefusal', () => {
  const cases: { name: string; limit: number | undefined; active: number; refused: boolean }[] = [
    { name: 'ok/no quota', limit: undefined, active: 10_000, refused: false },
    { name: 'ok/below the quota', limit: 3, active: 2, refused: false },
    { name: 'fail/at the quota', limit: 3, active: 3, refused: true },
    { name: 'fail/quota 0', limit: 0, active: 0, refused: true },
  ];
  it.each(cases)('$name', (tc) => {
    const refusal = activeCertificatesRefusal(tc.limit === undefined ? undefined : { maxActiveCertificates: tc.limit }, tc.active);
    expect(refusal !== null).toBe(tc.refused);
    if (refusal) expect(refusal).toMatchObject({ quota: 'maxActiveCertificates', limit: tc.limit, current: tc.active });
  });
});

describe('renewalRateRefusal', () => {
  const now = new Date('2027-01-01T12:00:00Z');
  const ago = (seconds: number) => new Date(now.getTime() - seconds * 1000);
  const cases: { name: string; limit: number | undefined; recent: Date[]; retryAfter: number | null }[] = [
    { name: 'ok/no quota', limit: undefined, recent: [ago(1), ago(2)], retryAfter: null },
    { name: 'ok/below the quota', limit: 3, recent: [ago(10), ago(20)], retryAfter: null },
    { name: 'ok/old requests have left the window', limit: 2, recent: [ago(3600), ago(4000)], retryAfter: null },
    { name: 'fail/at the quota: retry when the oldest leaves the window', limit: 2, recent: [ago(600), ago(60)], retryAfter: 3000 },
    { name: 'fail/above the quota: retry when enough have left', limit: 2, recent: [ago(900), ago(600), ago(60)], retryAfter: 3000 },
    { name: 'fail/quota 0: an hour', limit: 0, recent: [], retryAfter: 3600 },
  ];
  it.each(cases)('$name', (tc) => {
    const refusal = renewalRateRefusal(tc.limit === undefined ? undefined : { maxRenewalsPerHour: tc.limit }, tc.recent, now);
    expect(refusal?.retryAfterSeconds ?? null).toBe(tc.retryAfter);
  });
});

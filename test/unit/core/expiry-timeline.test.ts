import { describe, expect, it } from 'vitest';
import { expiryTimeline } from '../../../core/expiry-timeline.js';

const now = new Date('2027-01-01T00:00:00Z');
const inDays = (days: number) => new Date(now.getTime() + days * 86_400_000);

describe('expiryTimeline', () => {
  it('counts each team’s expiries per slice, puts the expired in the first slice and leaves out later ones', () => {
    const timeline = expiryTimeline(
      [
        { team: 'payments', notAfter: inDays(1) },
        { team: 'payments', notAfter: inDays(-3) },
        { team: 'payments', notAfter: inDays(29.9) },
        { team: 'identity', notAfter: inDays(15) },
        { team: 'identity', notAfter: inDays(31) },
      ],
      now,
      30,
      3,
    );
    expect(timeline.teams.map((team) => team.team)).toEqual(['identity', 'payments']);
    expect(timeline.teams[0]!.buckets.map((bucket) => bucket.count)).toEqual([0, 1, 0]);
    expect(timeline.teams[1]!.buckets.map((bucket) => bucket.count)).toEqual([2, 0, 1]);
    expect(timeline.teams[1]!.total).toBe(3);
    expect(timeline.maxCount).toBe(2);
    expect(timeline.teams[0]!.buckets[1]!.start.toISOString()).toBe('2027-01-11T00:00:00.000Z');
    expect(timeline.to.toISOString()).toBe('2027-01-31T00:00:00.000Z');
  });

  it('has no teams and a scale of 1 when nothing expires in the window', () => {
    const timeline = expiryTimeline([{ team: 'a', notAfter: inDays(90) }], now, 30, 4);
    expect(timeline.teams).toEqual([]);
    expect(timeline.maxCount).toBe(1);
  });
});

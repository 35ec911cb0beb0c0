import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, type Listing } from '../../../api/cursor.js';
import { ProblemError } from '../../../api/problem.js';

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

function refusal(listing: Listing, cursor: string): ProblemError {
  try {
    decodeCursor(listing, cursor);
  } catch (error) {
    return error as ProblemError;
  }
  throw new Error(`cursor ${cursor} was accepted`);
}

describe('listing cursors', () => {
  const roundTrips: Array<[string, Listing, Record<string, string | number>]> = [
    ['ok/microseconds kept', 'certificates', { at: '2027-01-31T09:15:02.123456Z', id: 'crt_aaaaaaaaaaaaaaaaaaaa' }],
    ['ok/sub-millisecond difference kept', 'certificates', { at: '2027-01-31T09:15:02.123457Z', id: 'crt_aaaaaaaaaaaaaaaaaaaa' }],
    ['ok/whole second', 'certificates', { at: '2027-12-31T23:59:59.000000Z', id: 'crt_b' }],
    ['ok/leap day', 'certificates', { at: '2028-02-29T00:00:00.000001Z', id: 'crt_b' }],
    ['ok/bulk item', 'bulk-items', { id: 'crt_zzzzzzzzzzzzzzzzzzzz' }],
    ['ok/audit event', 'audit-events', { seq: 9_007_199_254_740_991 }],
  ];
  for (const [name, listing, position] of roundTrips) {
    it(name, () => {
      const cursor = encodeCursor(listing, position as never);
      expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(cursor.length).toBeLessThanOrEqual(200);
      expect(decodeCursor(listing, cursor)).toEqual(position);
    });
  }

  it('ok/distinct positions give distinct cursors', () => {
    const a = encodeCursor('certificates', { at: '2027-01-31T09:15:02.123456Z', id: 'crt_a' });
    const b = encodeCursor('certificates', { at: '2027-01-31T09:15:02.123457Z', id: 'crt_a' });
    const c = encodeCursor('certificates', { at: '2027-01-31T09:15:02.123456Z', id: 'crt_b' });
    expect(new Set([a, b, c]).size).toBe(3);
  });

  const at = '2027-01-31T09:15:02.123456Z';
  const refused: Array<[string, Listing, string]> = [
    ['fail/old millisecond format', 'certificates', b64({ createdAt: '2027-01-31T09:15:02.123Z', id: 'crt_a' })],
    ['fail/milliseconds only', 'certificates', b64({ v: 2, list: 'certificates', at: '2027-01-31T09:15:02.123Z', id: 'crt_a' })],
    ['fail/no zone', 'certificates', b64({ v: 2, list: 'certificates', at: '2027-01-31T09:15:02.123456', id: 'crt_a' })],
    ['fail/offset instead of Z', 'certificates', b64({ v: 2, list: 'certificates', at: '2027-01-31T09:15:02.123456+01:00', id: 'crt_a' })],
    ['fail/impossible date', 'certificates', b64({ v: 2, list: 'certificates', at: '2027-02-30T09:15:02.123456Z', id: 'crt_a' })],
    ['fail/hour 24', 'certificates', b64({ v: 2, list: 'certificates', at: '2027-01-31T24:15:02.123456Z', id: 'crt_a' })],
    ['fail/other version', 'certificates', b64({ v: 1, list: 'certificates', at, id: 'crt_a' })],
    ['fail/no version', 'certificates', b64({ list: 'certificates', at, id: 'crt_a' })],
    ['fail/another listing', 'bulk-items', encodeCursor('certificates', { at, id: 'crt_a' })],
    ['fail/another listing, reversed', 'certificates', encodeCursor('bulk-items', { id: 'crt_a' })],
    ['fail/extra field', 'certificates', b64({ v: 2, list: 'certificates', at, id: 'crt_a', limit: 5 })],
    ['fail/missing id', 'certificates', b64({ v: 2, list: 'certificates', at })],
    ['fail/id with quotes', 'certificates', b64({ v: 2, list: 'certificates', at, id: "crt_a' or 1=1" })],
    ['fail/id too long', 'certificates', b64({ v: 2, list: 'certificates', at, id: 'x'.repeat(65) })],
    ['fail/number id', 'bulk-items', b64({ v: 2, list: 'bulk-items', id: 5 })],
    ['fail/audit seq as text', 'audit-events', b64({ v: 2, list: 'audit-events', seq: '5' })],
    ['fail/audit seq zero', 'audit-events', b64({ v: 2, list: 'audit-events', seq: 0 })],
    ['fail/audit seq fraction', 'audit-events', b64({ v: 2, list: 'audit-events', seq: 1.5 })],
    ['fail/audit seq beyond exact integers', 'audit-events', b64({ v: 2, list: 'audit-events', seq: 2 ** 60 })],
    ['fail/not JSON', 'certificates', b64('not json')],
    ['fail/JSON array', 'certificates', b64([2, 'certificates', at, 'crt_a'])],
    ['fail/not base64url', 'certificates', 'abc+def/=='],
    ['fail/bare certificate id (the old bulk cursor)', 'bulk-items', 'crt_aaaaaaaaaaaaaaaaaaaa'],
    ['fail/empty', 'certificates', ''],
    ['fail/one character changed', 'certificates', encodeCursor('certificates', { at, id: 'crt_a' }).replace(/^e/, 'f')],
  ];
  for (const [name, listing, cursor] of refused) {
    it(name, () => {
      const error = refusal(listing, cursor);
      expect(error).toBeInstanceOf(ProblemError);
      expect(error.status).toBe(400);
      expect(error.toBody()).toMatchObject({ type: '/problems/validation-failed', errors: [{ field: 'cursor' }] });
      expect(error.detail).toMatch(/nextCursor/);
    });
  }
});

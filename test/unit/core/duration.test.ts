import { describe, expect, it } from 'vitest';
import { formatDurationSeconds, parseDurationSeconds } from '../../../core/duration.js';

const MINUTE = 60;
const HOUR = 3600;
const DAY = 86_400;
const WEEK = 7 * DAY;

describe('parseDurationSeconds', () => {
  const ok: { name: string; input: string | number; want: number }[] = [
    { name: 'ok/days', input: 'P90D', want: 90 * DAY },
    { name: 'ok/one day', input: 'P1D', want: DAY },
    { name: 'ok/weeks', input: 'P2W', want: 2 * WEEK },
    { name: 'ok/weeks and days', input: 'P1W2D', want: WEEK + 2 * DAY },
    { name: 'ok/hours', input: 'PT12H', want: 12 * HOUR },
    { name: 'ok/PT1M is one minute', input: 'PT1M', want: MINUTE },
    { name: 'ok/seconds', input: 'PT30S', want: 30 },
    { name: 'ok/days and hours', input: 'P1DT12H', want: DAY + 12 * HOUR },
    { name: 'ok/every unit', input: 'P1W1DT1H1M1S', want: WEEK + DAY + HOUR + MINUTE + 1 },
    { name: 'ok/hours and seconds', input: 'PT1H30S', want: HOUR + 30 },
    { name: 'ok/un-normalized values', input: 'PT90M', want: 90 * MINUTE },
    { name: 'ok/a zero part next to a non-zero one', input: 'P0DT1S', want: 1 },
    { name: 'ok/leading zeros', input: 'P007D', want: 7 * DAY },
    { name: 'ok/number of seconds', input: 3600, want: 3600 },
    { name: 'ok/one second', input: 1, want: 1 },
    { name: 'ok/numeric string', input: '86400', want: DAY },
    { name: 'ok/numeric string with leading zeros', input: '0060', want: 60 },
  ];
  it.each(ok)('$name', ({ input, want }) => {
    expect(parseDurationSeconds(input)).toBe(want);
  });

  const fail: { name: string; input: string | number; reason: RegExp }[] = [
    { name: 'fail/years', input: 'P1Y', reason: /not a supported duration/ },
    { name: 'fail/months', input: 'P1M', reason: /not a supported duration/ },
    { name: 'fail/years with days', input: 'P1Y2D', reason: /not a supported duration/ },
    { name: 'fail/months with time', input: 'P1MT1H', reason: /not a supported duration/ },
    { name: 'fail/bare P', input: 'P', reason: /not a supported duration/ },
    { name: 'fail/bare PT', input: 'PT', reason: /not a supported duration/ },
    { name: 'fail/dangling T', input: 'P1DT', reason: /not a supported duration/ },
    { name: 'fail/hours without T', input: 'P1H', reason: /not a supported duration/ },
    { name: 'fail/days after T', input: 'PT1D', reason: /not a supported duration/ },
    { name: 'fail/wrong order', input: 'P1D1W', reason: /not a supported duration/ },
    { name: 'fail/seconds before minutes', input: 'PT1S1M', reason: /not a supported duration/ },
    { name: 'fail/lower-case', input: 'p1d', reason: /not a supported duration/ },
    { name: 'fail/fractional seconds', input: 'PT1.5S', reason: /not a supported duration/ },
    { name: 'fail/fractional comma', input: 'PT1,5S', reason: /not a supported duration/ },
    { name: 'fail/negative ISO', input: '-P1D', reason: /not a supported duration/ },
    { name: 'fail/negative part', input: 'P-1D', reason: /not a supported duration/ },
    { name: 'fail/surrounding space', input: ' P1D ', reason: /not a supported duration/ },
    { name: 'fail/empty string', input: '', reason: /not a supported duration/ },
    { name: 'fail/unit without P', input: '1D', reason: /not a supported duration/ },
    { name: 'fail/zero days', input: 'P0D', reason: /longer than zero/ },
    { name: 'fail/zero seconds', input: 'PT0S', reason: /longer than zero/ },
    { name: 'fail/all zero parts', input: 'P0W0DT0H0M0S', reason: /longer than zero/ },
    { name: 'fail/zero number', input: 0, reason: /positive whole number/ },
    { name: 'fail/zero string', input: '0', reason: /positive whole number/ },
    { name: 'fail/negative number', input: -60, reason: /positive whole number/ },
    { name: 'fail/negative numeric string', input: '-60', reason: /not a supported duration/ },
    { name: 'fail/non-integer number', input: 1.5, reason: /positive whole number/ },
    { name: 'fail/non-integer string', input: '1.5', reason: /not a supported duration/ },
    { name: 'fail/exponent string', input: '1e3', reason: /not a supported duration/ },
    { name: 'fail/NaN', input: Number.NaN, reason: /positive whole number/ },
    { name: 'fail/Infinity', input: Number.POSITIVE_INFINITY, reason: /positive whole number/ },
    { name: 'fail/unsafe integer', input: 2 ** 53, reason: /positive whole number/ },
    { name: 'fail/unsafe numeric string', input: '99999999999999999999', reason: /positive whole number/ },
    { name: 'fail/ISO total > MAX_SAFE_INTEGER', input: 'P99999999999999999999D', reason: /seconds|duration/ },
    { name: 'fail/ISO seconds > MAX_SAFE_INTEGER', input: 'PT9007199254740993S', reason: /seconds|duration/ },
  ];
  it.each(fail)('$name', ({ input, reason }) => {
    expect(() => parseDurationSeconds(input)).toThrow(RangeError);
    expect(() => parseDurationSeconds(input)).toThrow(reason);
  });
});

describe('formatDurationSeconds', () => {
  it.each([
    { name: 'ok/seconds', input: 30, want: 'PT30S' },
    { name: 'ok/ninety days', input: 90 * DAY, want: 'PT7776000S' },
  ])('$name', ({ input, want }) => {
    expect(formatDurationSeconds(input)).toBe(want);
    expect(parseDurationSeconds(formatDurationSeconds(input))).toBe(input);
  });
});

import { describe, expect, it } from 'vitest';
import { BUSINESS_ERROR_TYPES } from '../../../core/errors.js';
import { isRetriedUntilDone, UNTIL_DONE_BACKOFF, untilDoneBackoffMs } from '../../../core/until-done.js';

describe('untilDoneBackoffMs (2 s doubling, capped at 2 minutes)', () => {
  const cases = [
    { name: 'ok/first failure', attempt: 1, ms: 2_000 },
    { name: 'ok/second', attempt: 2, ms: 4_000 },
    { name: 'ok/sixth', attempt: 6, ms: 64_000 },
    { name: 'ok/seventh reaches the cap', attempt: 7, ms: UNTIL_DONE_BACKOFF.maxMs },
    { name: 'ok/after hours of failures, still the cap', attempt: 500, ms: UNTIL_DONE_BACKOFF.maxMs },
    { name: 'ok/attempt 0 is treated as the first', attempt: 0, ms: 2_000 },
  ];
  it.each(cases)('$name', ({ attempt, ms }) => {
    expect(untilDoneBackoffMs(attempt)).toBe(ms);
  });
});

describe('isRetriedUntilDone', () => {
  const cases = [
    { name: 'ok/a plain error (Postgres refused the connection)', type: 'Error', retried: true },
    { name: 'ok/an activity timeout (Postgres hangs)', type: 'Timeout', retried: true },
    { name: 'ok/a Temporal RPC error', type: 'ServiceError', retried: true },
    ...Object.values(BUSINESS_ERROR_TYPES).map((type) => ({ name: `fail/business error ${type}`, type, retried: false })),
  ];
  it.each(cases)('$name', ({ type, retried }) => {
    expect(isRetriedUntilDone(type)).toBe(retried);
  });
});

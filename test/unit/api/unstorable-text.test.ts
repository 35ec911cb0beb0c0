import { describe, expect, it } from 'vitest';
import { NUL_MESSAGE, SURROGATE_MESSAGE, unstorableTextProblems } from '../../../api/unstorable-text.js';

describe('unstorableTextProblems (before zod, at every body and query parser)', () => {
  const cases: Array<{ name: string; value: unknown; where?: 'body' | 'query'; want: Array<{ field: string; message: string }> }> = [
    { name: 'ok/plain text, numbers, booleans and null', value: { reason: 'rotate, please', n: 3, b: true, z: null }, want: [] },
    { name: 'ok/non-ASCII text and a surrogate pair (emoji)', value: { name: 'Zoë 🔐', tags: ['ü'] }, want: [] },
    { name: 'ok/a backslash-zero is two ordinary characters', value: { reason: '\\u0000 and \\0' }, want: [] },
    { name: 'ok/empty object, array and string', value: { a: {}, b: [], c: '' }, want: [] },
    { name: 'ok/a query object', value: { team: 'payments', limit: '10' }, where: 'query', want: [] },
    { name: 'fail/NUL at the end of a value', value: { reason: 'ok\u0000' }, want: [{ field: 'reason', message: NUL_MESSAGE }] },
    { name: 'fail/a lone NUL', value: { name: '\u0000' }, want: [{ field: 'name', message: NUL_MESSAGE }] },
    { name: 'fail/NUL deep in arrays and objects', value: { policy: { destinationHosts: { zones: ['a.test', 'b\u0000.test'] } } }, want: [{ field: 'policy/destinationHosts/zones/1', message: NUL_MESSAGE }] },
    { name: 'fail/NUL in a key, shown escaped', value: { 'rea\u0000son': 'x' }, want: [{ field: 'rea\\u0000son', message: `its name ${NUL_MESSAGE}` }] },
    { name: 'fail/NUL in a nested key and its value', value: { a: { 'k\u0000': 'v\u0000' } }, want: [{ field: 'a/k\\u0000', message: `its name ${NUL_MESSAGE}` }, { field: 'a/k\\u0000', message: NUL_MESSAGE }] },
    { name: 'fail/every offending field, in document order', value: { a: 'x\u0000', b: ['ok', '\u0000'], c: 'y\u0000' }, want: [{ field: 'a', message: NUL_MESSAGE }, { field: 'b/1', message: NUL_MESSAGE }, { field: 'c', message: NUL_MESSAGE }] },
    { name: 'fail/the body itself is a string', value: 'x\u0000', want: [{ field: '(body)', message: NUL_MESSAGE }] },
    { name: 'fail/a query parameter', value: { team: 'pay\u0000ments' }, where: 'query', want: [{ field: 'team', message: NUL_MESSAGE }] },
    { name: 'fail/a lone high surrogate', value: { reason: 'x\uD800' }, want: [{ field: 'reason', message: SURROGATE_MESSAGE }] },
    { name: 'fail/a lone low surrogate', value: { reason: '\uDC00x' }, want: [{ field: 'reason', message: SURROGATE_MESSAGE }] },
    { name: 'fail/a reversed pair', value: { reason: '\uDC00\uD800' }, want: [{ field: 'reason', message: SURROGATE_MESSAGE }] },
  ];
  it.each(cases)('$name', ({ value, where, want }) => {
    expect(unstorableTextProblems(value, where)).toEqual(want);
  });

  it('ok/JSON.parse of the escape yields the NUL the walker refuses', () => {
    expect(unstorableTextProblems(JSON.parse('{"reason":"ok\\u0000"}'))).toEqual([{ field: 'reason', message: NUL_MESSAGE }]);
  });

  it('fail/a body nested 100 000 deep is walked without overflowing the stack, its path shortened', () => {
    const depth = 100_000;
    const body: unknown = JSON.parse(`${'['.repeat(depth)}"\\u0000"${']'.repeat(depth)}`);
    const [problem, ...rest] = unstorableTextProblems(body);
    expect(rest).toEqual([]);
    expect(problem?.message).toBe(NUL_MESSAGE);
    expect(problem?.field).toBe([...Array<string>(16).fill('0'), '…', ...Array<string>(16).fill('0')].join('/'));
  });

  it('fail/at most 20 problems are reported', () => {
    expect(unstorableTextProblems(Array.from({ length: 1000 }, () => '\u0000'))).toHaveLength(20);
  });
});

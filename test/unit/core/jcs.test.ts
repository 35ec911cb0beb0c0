import { describe, expect, it } from 'vitest';
import { canonicalize, JcsError } from '../../../core/jcs.js';

const fromBits = (hex: string): number => new DataView(Uint8Array.from(Buffer.from(hex, 'hex')).buffer).getFloat64(0);

describe('canonicalize (RFC 8785)', () => {
  // RFC 8785 Appendix B: IEEE 754 bit patterns and their canonical text.
  const numbers: { name: string; bits: string; want: string }[] = [
    { name: 'ok/zero', bits: '0000000000000000', want: '0' },
    { name: 'ok/minus zero', bits: '8000000000000000', want: '0' },
    { name: 'ok/min pos number', bits: '0000000000000001', want: '5e-324' },
    { name: 'ok/min neg number', bits: '8000000000000001', want: '-5e-324' },
    { name: 'ok/max pos number', bits: '7fefffffffffffff', want: '1.7976931348623157e+308' },
    { name: 'ok/max neg number', bits: 'ffefffffffffffff', want: '-1.7976931348623157e+308' },
    { name: 'ok/max pos int', bits: '4340000000000000', want: '9007199254740992' },
    { name: 'ok/max neg int', bits: 'c340000000000000', want: '-9007199254740992' },
    { name: 'ok/~2**68', bits: '4430000000000000', want: '295147905179352830000' },
    { name: 'ok/1e23 below', bits: '44b52d02c7e14af5', want: '9.999999999999997e+22' },
    { name: 'ok/1e23', bits: '44b52d02c7e14af6', want: '1e+23' },
    { name: 'ok/1e23 above', bits: '44b52d02c7e14af7', want: '1.0000000000000001e+23' },
    { name: 'ok/below 1e21 (a)', bits: '444b1ae4d6e2ef4e', want: '999999999999999700000' },
    { name: 'ok/below 1e21 (b)', bits: '444b1ae4d6e2ef4f', want: '999999999999999900000' },
    { name: 'ok/1e21', bits: '444b1ae4d6e2ef50', want: '1e+21' },
    { name: 'ok/below 1e-6', bits: '3eb0c6f7a0b5ed8c', want: '9.999999999999997e-7' },
    { name: 'ok/1e-6', bits: '3eb0c6f7a0b5ed8d', want: '0.000001' },
    { name: 'ok/333333333.3333332', bits: '41b3de4355555553', want: '333333333.3333332' },
    { name: 'ok/333333333.33333325', bits: '41b3de4355555554', want: '333333333.33333325' },
    { name: 'ok/333333333.3333333', bits: '41b3de4355555555', want: '333333333.3333333' },
    { name: 'ok/333333333.3333334', bits: '41b3de4355555556', want: '333333333.3333334' },
    { name: 'ok/333333333.33333343', bits: '41b3de4355555557', want: '333333333.33333343' },
    { name: 'ok/-0.0000033333333333333333', bits: 'becbf647612f3696', want: '-0.0000033333333333333333' },
    { name: 'ok/1424953923781206.2', bits: '43143ff3c1cb0959', want: '1424953923781206.2' },
  ];
  it.each(numbers)('$name', ({ bits, want }) => {
    expect(canonicalize(fromBits(bits))).toBe(want);
  });

  it('ok/RFC 8785 §3.2.2 example (whitespace, numbers, string escapes, literals)', () => {
    const input = JSON.parse(
      '{\n  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],\n  "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",\n  "literals": [null, true, false]\n}',
    );
    expect(canonicalize(input)).toBe('{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}');
  });

  it('ok/RFC 8785 §3.2.3 example (members sorted by UTF-16 code units)', () => {
    const input = JSON.parse(
      '{"\\u20ac":"Euro Sign","\\r":"Carriage Return","\\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\\ud83d\\ude00":"Emoji: Grinning Face","\\u0080":"Control","\\u00f6":"Latin Small Letter O With Diaeresis"}',
    ) as Record<string, string>;
    // (Object.keys would list the integer-like "1" first: read the order off the text.)
    const values = [...canonicalize(input).matchAll(/":"([^"]*)"/g)].map((match) => match[1]);
    expect(values).toEqual(['Carriage Return', 'One', 'Control', 'Latin Small Letter O With Diaeresis', 'Euro Sign', 'Emoji: Grinning Face', 'Hebrew Letter Dalet With Dagesh']);
  });

  it('ok/nested objects are sorted at every level; undefined members are absent', () => {
    expect(canonicalize({ b: { d: 1, c: [{ z: 1, a: 2 }] }, a: undefined, c: 'x' })).toBe('{"b":{"c":[{"a":2,"z":1}],"d":1},"c":"x"}');
  });

  const fail: { name: string; value: unknown }[] = [
    { name: 'fail/NaN', value: NaN },
    { name: 'fail/Infinity', value: Infinity },
    { name: 'fail/-Infinity nested', value: { a: [-Infinity] } },
    { name: 'fail/bigint', value: 1n },
    { name: 'fail/function', value: () => 1 },
  ];
  it.each(fail)('$name', ({ value }) => {
    expect(() => canonicalize(value)).toThrow(JcsError);
  });
});

import { describe, expect, it } from 'vitest';
import { canonicalizeDnsName, canonicalizeDnsNames, isWildcard, isWithinZone, MAX_DNS_NAME_LENGTH, NameError } from '../../../core/names.js';

const label = (length: number, char = 'a'): string => char.repeat(length);
/** A name of exactly `length` characters made of 63-character labels and a shorter last one. */
function nameOfLength(length: number): string {
  const labels: string[] = [];
  let remaining = length;
  while (remaining > 64) {
    labels.push(label(63));
    remaining -= 64;
  }
  labels.push(label(remaining));
  return labels.join('.');
}

describe('canonicalizeDnsName', () => {
  const ok: { name: string; input: string; want: string }[] = [
    { name: 'ok/simple', input: 'service.example.com', want: 'service.example.com' },
    { name: 'ok/lower-cases', input: 'Service.EXAMPLE.Com', want: 'service.example.com' },
    { name: 'ok/two labels', input: 'example.com', want: 'example.com' },
    { name: 'ok/inner hyphen', input: 'my-service.example.com', want: 'my-service.example.com' },
    { name: 'ok/digits in labels', input: '1st.example.com', want: '1st.example.com' },
    { name: 'ok/63-char label', input: `${label(63)}.example.com`, want: `${label(63)}.example.com` },
    { name: 'ok/253-char name', input: nameOfLength(253), want: nameOfLength(253) },
    { name: 'ok/253-char name upper-case', input: nameOfLength(253).toUpperCase(), want: nameOfLength(253) },
    { name: 'ok/xn-- A-label', input: 'xn--bcher-kva.example.com', want: 'xn--bcher-kva.example.com' },
    { name: 'ok/xn-- A-label upper-case', input: 'XN--BCHER-KVA.example.com', want: 'xn--bcher-kva.example.com' },
    { name: 'ok/xn-- A-label TLD', input: 'shop.xn--p1ai', want: 'shop.xn--p1ai' },
    { name: 'ok/wildcard leftmost', input: '*.a.example.com', want: '*.a.example.com' },
    { name: 'ok/wildcard two labels under it', input: '*.Example.com', want: '*.example.com' },
    { name: 'ok/numeric non-final label', input: '10.example.com', want: '10.example.com' },
    { name: 'ok/hex-looking non-final label', input: '0x7f.example.com', want: '0x7f.example.com' },
    { name: 'ok/alphanumeric TLD', input: 'service.1a', want: 'service.1a' },
  ];
  it.each(ok)('$name', ({ input, want }) => {
    expect(canonicalizeDnsName(input)).toBe(want);
  });

  const fail: { name: string; input: string; reason: RegExp }[] = [
    { name: 'fail/empty', input: '', reason: /empty/ },
    { name: 'fail/single label', input: 'localhost', reason: /two labels/ },
    { name: 'fail/64-char label', input: `${label(64)}.example.com`, reason: /64 characters.*limit is 63/ },
    { name: 'fail/254-char name', input: nameOfLength(254), reason: /254 characters.*limit is 253/ },
    { name: 'fail/trailing dot', input: 'service.example.com.', reason: /trailing dot/ },
    { name: 'fail/only a dot', input: '.', reason: /trailing dot/ },
    { name: 'fail/leading dot', input: '.example.com', reason: /empty label/ },
    { name: 'fail/empty inner label', input: 'a..example.com', reason: /empty label/ },
    { name: 'fail/underscore', input: '_acme-challenge.example.com', reason: /only letters, digits and inner hyphens/ },
    { name: 'fail/space', input: 'my service.example.com', reason: /spaces/ },
    { name: 'fail/leading space', input: ' service.example.com', reason: /spaces/ },
    { name: 'fail/tab', input: 'service\t.example.com', reason: /control/ },
    { name: 'fail/NUL', input: 'service.example.com\0.evil.com', reason: /control/ },
    { name: 'fail/DEL', input: 'service\x7f.example.com', reason: /control/ },
    { name: 'fail/raw Unicode', input: 'bücher.example.com', reason: /non-ASCII.*A-labels/ },
    { name: 'fail/Unicode dot', input: 'service\u3002example.com', reason: /non-ASCII/ },
    { name: 'fail/hyphens in positions 3 and 4', input: 'ab--cd.example.com', reason: /positions 3 and 4/ },
    { name: 'fail/leading hyphen', input: '-service.example.com', reason: /inner hyphens/ },
    { name: 'fail/trailing hyphen', input: 'service-.example.com', reason: /inner hyphens/ },
    { name: 'fail/slash', input: 'service/x.example.com', reason: /only letters/ },
    { name: 'fail/colon port', input: 'service.example.com:443', reason: /only letters/ },
    { name: 'fail/wildcard not leftmost', input: 'a.*.example.com', reason: /whole leftmost label/ },
    { name: 'fail/double wildcard', input: '*.*.example.com', reason: /whole leftmost label/ },
    { name: 'fail/partial wildcard', input: '*a.example.com', reason: /only letters/ },
    { name: 'fail/partial wildcard suffix', input: 'a*.example.com', reason: /only letters/ },
    { name: 'fail/wildcard on TLD', input: '*.com', reason: /two labels under it/ },
    { name: 'fail/bare wildcard', input: '*', reason: /two labels/ },
    { name: 'fail/IPv4 address', input: '1.2.3.4', reason: /IP address/ },
    { name: 'fail/hex IP', input: '0x7f.1', reason: /IP address/ },
    { name: 'fail/hex TLD', input: 'service.0x7f', reason: /IP address/ },
    { name: 'fail/upper-case hex TLD', input: 'service.0X7F', reason: /IP address/ },
    { name: 'fail/numeric TLD', input: 'service.example.123', reason: /IP address/ },
    { name: 'fail/wildcard over numeric TLD', input: '*.1.2', reason: /IP address/ },
    { name: 'fail/IPv6 address', input: '::1', reason: /two labels|only letters/ },
  ];
  it.each(fail)('$name', ({ input, reason }) => {
    let thrown: unknown;
    try {
      canonicalizeDnsName(input);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(NameError);
    expect((thrown as NameError).reason).toMatch(reason);
    expect((thrown as NameError).name_).toBe(input);
  });

  it('ok/length limit is the exported constant', () => {
    expect(MAX_DNS_NAME_LENGTH).toBe(253);
  });
});

describe('canonicalizeDnsNames', () => {
  const cases: { name: string; input: string[]; want: string[] }[] = [
    { name: 'ok/empty list', input: [], want: [] },
    { name: 'ok/keeps order', input: ['b.example.com', 'a.example.com'], want: ['b.example.com', 'a.example.com'] },
    {
      name: 'ok/dedupes, first position wins',
      input: ['B.example.com', 'a.example.com', 'b.EXAMPLE.com', 'c.example.com', 'A.example.com'],
      want: ['b.example.com', 'a.example.com', 'c.example.com'],
    },
    { name: 'ok/wildcard and parent are distinct', input: ['*.example.com', 'example.com', '*.EXAMPLE.com'], want: ['*.example.com', 'example.com'] },
  ];
  it.each(cases)('$name', ({ input, want }) => {
    expect(canonicalizeDnsNames(input)).toEqual(want);
  });

  it('fail/one invalid name refuses the whole list', () => {
    expect(() => canonicalizeDnsNames(['ok.example.com', 'bad_name.example.com'])).toThrow(NameError);
  });
});

describe('isWildcard', () => {
  const cases: { name: string; input: string; want: boolean }[] = [
    { name: 'ok/wildcard', input: '*.example.com', want: true },
    { name: 'ok/plain name', input: 'www.example.com', want: false },
    { name: 'ok/star not followed by dot', input: '*example.com', want: false },
    { name: 'ok/star inside', input: 'a.*.example.com', want: false },
  ];
  it.each(cases)('$name', ({ input, want }) => {
    expect(isWildcard(input)).toBe(want);
  });
});

describe('isWithinZone', () => {
  const cases: { name: string; input: string; zone: string; want: boolean }[] = [
    { name: 'ok/equal to zone', input: 'example.com', zone: 'example.com', want: true },
    { name: 'ok/direct child', input: 'www.example.com', zone: 'example.com', want: true },
    { name: 'ok/deep child', input: 'a.b.c.example.com', zone: 'example.com', want: true },
    { name: 'ok/wildcard under zone', input: '*.example.com', zone: 'example.com', want: true },
    { name: 'ok/wildcard deeper under zone', input: '*.svc.example.com', zone: 'example.com', want: true },
    { name: 'fail/suffix without dot boundary', input: 'notexample.com', zone: 'example.com', want: false },
    { name: 'fail/wildcard, no dot boundary', input: '*.notexample.com', zone: 'example.com', want: false },
    { name: 'fail/parent of zone', input: 'example.com', zone: 'svc.example.com', want: false },
    { name: 'fail/wildcard above zone', input: '*.example.com', zone: 'svc.example.com', want: false },
    { name: 'fail/other zone', input: 'www.example.org', zone: 'example.com', want: false },
    { name: 'fail/zone as prefix', input: 'example.com.evil.net', zone: 'example.com', want: false },
  ];
  it.each(cases)('$name', ({ input, zone, want }) => {
    expect(isWithinZone(input, zone)).toBe(want);
  });
});

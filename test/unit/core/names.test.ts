import { describe, expect, it } from 'vitest';
import {
  canonicalizeDnsName,
  canonicalizeDnsNames,
  checkSanCount,
  isWildcard,
  isWithinZone,
  MAX_DNS_NAME_LENGTH,
  MAX_SANS,
  NameError,
  punycodeDecode,
  punycodeEncode,
  SanCountError,
} from '../../../core/names.js';

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
    { name: 'fail/IPv6 address', input: '::1', reason: /IP address/ },
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

/** The A-label of a Unicode label, built with the encoder under test (its vectors are checked below). */
const aLabel = (unicode: string): string => `xn--${punycodeEncode(Array.from(unicode, (char) => char.codePointAt(0)!))}`;

function nameErrorOf(input: string): NameError {
  try {
    canonicalizeDnsName(input);
  } catch (error) {
    if (error instanceof NameError) return error;
    throw error;
  }
  throw new Error(`"${input}" was accepted`);
}

describe('canonicalizeDnsName: A-labels', () => {
  const ok: { name: string; input: string; want: string }[] = [
    { name: 'ok/German', input: 'xn--mnchen-3ya.example.com', want: 'xn--mnchen-3ya.example.com' },
    { name: 'ok/Cyrillic TLD', input: 'xn--e1afmkfd.xn--p1ai', want: 'xn--e1afmkfd.xn--p1ai' },
    { name: 'ok/Japanese', input: 'xn--r8jz45g.example.com', want: 'xn--r8jz45g.example.com' },
    { name: 'ok/upper-case A-label is lower-cased', input: 'XN--MNCHEN-3YA.example.com', want: 'xn--mnchen-3ya.example.com' },
    { name: 'ok/sharp s (IDNA2008 keeps it)', input: 'xn--zca.example.com', want: 'xn--zca.example.com' },
    { name: 'ok/wildcard over an A-label', input: '*.xn--mnchen-3ya.example.com', want: '*.xn--mnchen-3ya.example.com' },
    { name: 'ok/63-char A-label', input: `${aLabel(`${'a'.repeat(55)}ü`)}.example.com`, want: `${aLabel(`${'a'.repeat(55)}ü`)}.example.com` },
  ];
  it.each(ok)('$name', ({ input, want }) => {
    expect(canonicalizeDnsName(input)).toBe(want);
  });

  it('ok/the 63-char A-label case really is 63 characters', () => {
    expect(aLabel(`${'a'.repeat(55)}ü`)).toHaveLength(63);
    expect(aLabel(`${'a'.repeat(56)}ü`)).toHaveLength(64);
  });

  const fail: { name: string; input: string; reason: RegExp }[] = [
    { name: 'fail/xn-- with invalid Punycode', input: 'xn--zz.example.com', reason: /"xn--zz" is not valid Punycode/ },
    { name: 'fail/xn-- with a trailing digit that overruns', input: 'xn--mnchen-3ya9.example.com', reason: /not valid Punycode/ },
    { name: 'fail/xn-- that overflows', input: 'xn--99999999999.example.com', reason: /not valid Punycode/ },
    { name: 'fail/xn-- decoding beyond U+10FFFF', input: 'xn--en32g.example.com', reason: /"xn--en32g" is not valid Punycode/ },
    { name: 'fail/xn-- empty after prefix', input: 'xn--.example.com', reason: /only letters, digits and inner hyphens/ },
    // A Punycode string that decodes to plain ASCII ends in its delimiter, so the LDH rule refuses it first.
    { name: 'fail/xn-- decoding to plain ASCII', input: 'xn--abc-.example.com', reason: /only letters, digits and inner hyphens/ },
    { name: 'fail/xn-- whose digits end mid-number after a basic part', input: 'xn--ab-cd.example.com', reason: /"xn--ab-cd" is not valid Punycode/ },
    { name: 'fail/xn-- with a delimiter but no basic code points (lax decoders read it as ü)', input: 'xn---tda.example.com', reason: /"xn---tda" is not valid Punycode/ },
    { name: 'fail/xn-- decoding to a C1 control character', input: 'xn--abc.example.com', reason: /control, invisible or unassigned character \(U\+0082\)/ },
    { name: 'fail/upper-case dotted capital I (U+0130)', input: `${aLabel('\u0130stanbul')}.example.com`, reason: /upper-case letters/ },
    { name: 'fail/upper-case U-label', input: `${aLabel('bÜcher')}.example.com`, reason: /upper-case letters \("bÜcher"\)/ },
    { name: 'fail/ideographic full stop', input: `${aLabel('a\u3002b')}.example.com`, reason: /full stop lookalike \(U\+3002\)/ },
    { name: 'fail/full-width full stop', input: `${aLabel('ü\uff0eb')}.example.com`, reason: /full stop lookalike \(U\+FF0E\)/ },
    { name: 'fail/half-width ideographic full stop', input: `${aLabel('ü\uff61b')}.example.com`, reason: /full stop lookalike \(U\+FF61\)/ },
    { name: 'fail/no-break space', input: `${aLabel('ü\u00a0b')}.example.com`, reason: /space, control, invisible or unassigned character \(U\+00A0\)/ },
    { name: 'fail/ideographic space', input: `${aLabel('ü\u3000b')}.example.com`, reason: /space, control, invisible or unassigned character \(U\+3000\)/ },
    { name: 'fail/zero-width joiner', input: `${aLabel('ü\u200d')}.example.com`, reason: /\(U\+200D\)/ },
    { name: 'fail/right-to-left override', input: `${aLabel('ü\u202emoc')}.example.com`, reason: /\(U\+202E\)/ },
    { name: 'fail/lone surrogate', input: `${aLabel('ü\ud800')}.example.com`, reason: /\(U\+D800\)/ },
    { name: 'fail/not NFC (decomposed accent)', input: `${aLabel('exa\u0301mple')}.example.com`, reason: /normalization form C/ },
    { name: 'fail/full-width letters', input: `${aLabel('ｅｘａｍｐｌｅ')}.example.com`, reason: /compatibility characters/ },
    { name: 'fail/ligature', input: `${aLabel('\ufb01ü')}.example.com`, reason: /compatibility characters/ },
    { name: 'fail/fraction slash spoof', input: `${aLabel('a\u2044b')}.example.com`, reason: /symbol or punctuation character \(U\+2044\)/ },
    { name: 'fail/emoji', input: 'xn--ls8h.example.com', reason: /symbol or punctuation character \(U\+1F4A9\)/ },
    { name: 'fail/leading combining mark', input: `${aLabel('\u0301ab')}.example.com`, reason: /begins with a combining mark/ },
    { name: 'fail/U-label with leading hyphen', input: `${aLabel('-ü')}.example.com`, reason: /begins or ends with a hyphen/ },
    { name: 'fail/U-label with trailing hyphen', input: `${aLabel('ü-')}.example.com`, reason: /begins or ends with a hyphen/ },
    { name: 'fail/U-label with hyphens in positions 3 and 4', input: `${aLabel('ab--ü')}.example.com`, reason: /hyphens in positions 3 and 4/ },
    { name: 'fail/Latin and Cyrillic mixed (аpple)', input: 'xn--pple-43d.com', reason: /mixes Latin and Cyrillic letters/ },
    { name: 'fail/Latin and Greek mixed', input: `${aLabel('pαypal')}.example.com`, reason: /mixes Latin and Greek letters/ },
    { name: 'fail/64-char A-label', input: `${aLabel(`${'a'.repeat(56)}ü`)}.example.com`, reason: /64 characters long; the limit is 63/ },
  ];
  it.each(fail)('$name', ({ input, reason }) => {
    expect(nameErrorOf(input).reason).toMatch(reason);
  });
});

describe('punycode (RFC 3492 §7.1 sample strings)', () => {
  const cases: { name: string; unicode: string; encoded: string }[] = [
    { name: 'ok/(B) Chinese (simplified)', unicode: '他们为什么不说中文', encoded: 'ihqwcrb4cv8a8dqg056pqjye' },
    { name: 'ok/(C) Chinese (traditional)', unicode: '他們爲什麽不說中文', encoded: 'ihqwctvzc91f659drss3x8bo0yb' },
    { name: 'ok/(E) Hebrew', unicode: 'למההםפשוטלאמדבריםעברית', encoded: '4dbcagdahymbxekheh6e0a7fei0b' },
    { name: 'ok/(L) mixed basic and non-basic', unicode: '3年B組金八先生', encoded: '3B-ww4c5e180e575a65lsy2b' },
    { name: 'ok/(S) only basic code points', unicode: '-> $1.00 <-', encoded: '-> $1.00 <--' },
    { name: 'ok/bücher', unicode: 'bücher', encoded: 'bcher-kva' },
  ];
  it.each(cases)('$name', ({ unicode, encoded }) => {
    const codePoints = Array.from(unicode, (char) => char.codePointAt(0)!);
    expect(punycodeEncode(codePoints)).toBe(encoded);
    expect(punycodeDecode(encoded)).toEqual(codePoints);
  });

  const malformed: { name: string; encoded: string }[] = [
    { name: 'fail/digit sequence ends mid-number', encoded: 'zz' },
    { name: 'fail/non-digit character', encoded: 'a_b' },
    { name: 'fail/upper-case digit (labels are lower-cased first)', encoded: 'A' },
    { name: 'fail/overflow', encoded: '99999999999' },
    { name: 'fail/code point beyond U+10FFFF', encoded: 'en32g' },
    { name: 'fail/non-ASCII basic code point', encoded: 'ü-kva' },
  ];
  it.each(malformed)('$name', ({ encoded }) => {
    expect(punycodeDecode(encoded)).toBeNull();
  });
});

describe('canonicalizeDnsName: IP addresses written as DNS names', () => {
  const cases: { name: string; input: string }[] = [
    { name: 'fail/dotted decimal', input: '127.0.0.1' },
    { name: 'fail/dotted hex', input: '0x7f.0.0.1' },
    { name: 'fail/dotted hex upper-case', input: '0X7F.0.0.1' },
    { name: 'fail/single hex number', input: '0x7f000001' },
    { name: 'fail/dotted octal', input: '0177.0.0.1' },
    { name: 'fail/single octal number', input: '017700000001' },
    { name: 'fail/single decimal number', input: '2130706433' },
    { name: 'fail/shortened a.b', input: '127.1' },
    { name: 'fail/shortened a.b.c', input: '127.0.1' },
    { name: 'fail/mixed bases', input: '0x7f.0.01' },
    { name: 'fail/empty hex part', input: '0x.0x.0x.0x' },
    { name: 'fail/five numeric parts', input: '1.2.3.4.5' },
    { name: 'fail/IPv6 loopback', input: '::1' },
    { name: 'fail/IPv6 bracketed', input: '[2001:db8::1]' },
    { name: 'fail/IPv6 with zone id', input: 'fe80::1%eth0' },
    { name: 'fail/IPv4-mapped IPv6', input: '::ffff:127.0.0.1' },
  ];
  it.each(cases)('$name', ({ input }) => {
    const error = nameErrorOf(input);
    expect(error.reason).toMatch(/IP address/);
    expect(error.name_).toBe(input);
  });

  const ok: { name: string; input: string }[] = [
    { name: 'ok/numbers under a real TLD', input: '127.0.0.1.example.com' },
    { name: 'ok/hex-looking label under a real TLD', input: '0x7f000001.example.com' },
    { name: 'ok/letters after digits', input: '127a.0.0.1b' },
  ];
  it.each(ok)('$name', ({ input }) => {
    expect(canonicalizeDnsName(input)).toBe(input);
  });
});

describe('checkSanCount', () => {
  const distinct = (count: number): string[] => Array.from({ length: count }, (_, index) => `host${index}.example.com`);
  const cases: { name: string; names: string[]; error: boolean }[] = [
    { name: 'ok/none', names: [], error: false },
    { name: 'ok/exactly MAX_SANS', names: distinct(MAX_SANS), error: false },
    { name: 'ok/MAX_SANS after deduplication', names: [...distinct(MAX_SANS), 'HOST0.example.com'], error: false },
    { name: 'fail/MAX_SANS + 1', names: distinct(MAX_SANS + 1), error: true },
  ];
  it.each(cases)('$name', ({ names, error }) => {
    const count = canonicalizeDnsNames(names).length;
    if (!error) {
      expect(() => checkSanCount(count)).not.toThrow();
      return;
    }
    expect(() => checkSanCount(count)).toThrow(SanCountError);
    expect(() => checkSanCount(count)).toThrow(`the limit is ${MAX_SANS}`);
  });
});

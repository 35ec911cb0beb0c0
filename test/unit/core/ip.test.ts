import { describe, expect, it } from 'vitest';
import { canonicalizeIp, IpError, ipToOctets } from '../../../core/ip.js';

function ipErrorOf(run: () => unknown): IpError {
  try {
    run();
  } catch (error) {
    if (error instanceof IpError) return error;
    throw error;
  }
  throw new Error('no IpError was thrown');
}

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

describe('canonicalizeIp', () => {
  const ok: { name: string; input: string; want: string; octets: Uint8Array }[] = [
    { name: 'ok/IPv4', input: '192.0.2.1', want: '192.0.2.1', octets: bytes(192, 0, 2, 1) },
    { name: 'ok/IPv4 zeros', input: '0.0.0.0', want: '0.0.0.0', octets: bytes(0, 0, 0, 0) },
    { name: 'ok/IPv4 broadcast', input: '255.255.255.255', want: '255.255.255.255', octets: bytes(255, 255, 255, 255) },
    { name: 'ok/IPv6 already canonical', input: '2001:db8::1', want: '2001:db8::1', octets: bytes(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1) },
    { name: 'ok/IPv6 upper-case is lower-cased', input: '2001:DB8::A', want: '2001:db8::a', octets: bytes(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a) },
    { name: 'ok/IPv6 full form is compressed', input: '2001:0db8:0000:0000:0000:0000:0000:0001', want: '2001:db8::1', octets: bytes(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1) },
    { name: 'ok/IPv6 leading zeros dropped', input: '2001:db8:0:0:1:0:0:01', want: '2001:db8::1:0:0:1', octets: bytes(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1) },
    { name: 'ok/IPv6 longest zero run wins', input: '2001:0:0:1:0:0:0:1', want: '2001:0:0:1::1', octets: bytes(0x20, 0x01, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1) },
    { name: 'ok/IPv6 first of equal zero runs wins', input: '2001:db8:0:0:1:0:0:1', want: '2001:db8::1:0:0:1', octets: bytes(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1) },
    { name: 'ok/IPv6 single zero group is not compressed', input: '2001:db8:0:1:1:1:1:1', want: '2001:db8:0:1:1:1:1:1', octets: bytes(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1) },
    { name: 'ok/IPv6 non-canonical "::" over one group is expanded', input: '2001:db8::1:1:1:1:1', want: '2001:db8:0:1:1:1:1:1', octets: bytes(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1) },
    { name: 'ok/IPv6 unspecified', input: '0:0:0:0:0:0:0:0', want: '::', octets: new Uint8Array(16) },
    { name: 'ok/IPv6 loopback', input: '::1', want: '::1', octets: bytes(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1) },
    { name: 'ok/IPv6 trailing zeros', input: '2001:db8:0:0:0:0:0:0', want: '2001:db8::', octets: bytes(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0) },
    { name: 'ok/IPv6 "::" at the end leaving one zero', input: '1:2:3:4:5:6:7::', want: '1:2:3:4:5:6:7:0', octets: bytes(0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 0) },
    { name: 'ok/IPv4-mapped kept in mixed form', input: '::ffff:192.0.2.1', want: '::ffff:192.0.2.1', octets: bytes(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1) },
    { name: 'ok/IPv4-mapped written in hex becomes mixed form', input: '::FFFF:c000:0201', want: '::ffff:192.0.2.1', octets: bytes(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1) },
    { name: 'ok/IPv4-mapped written in full', input: '0:0:0:0:0:ffff:192.0.2.1', want: '::ffff:192.0.2.1', octets: bytes(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1) },
    { name: 'ok/deprecated IPv4-compatible is written in hex', input: '::192.0.2.1', want: '::c000:201', octets: bytes(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 192, 0, 2, 1) },
    { name: 'ok/NAT64 with embedded dotted quad', input: '64:ff9b::192.0.2.1', want: '64:ff9b::c000:201', octets: bytes(0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0, 192, 0, 2, 1) },
  ];
  it.each(ok)('$name', ({ input, want, octets }) => {
    const canonical = canonicalizeIp(input);
    expect(canonical).toBe(want);
    expect(canonicalizeIp(canonical)).toBe(want);
    expect(ipToOctets(canonical)).toEqual(octets);
  });

  const fail: { name: string; input: string; reason: RegExp }[] = [
    { name: 'fail/empty', input: '', reason: /empty/ },
    { name: 'fail/IPv4 leading zero', input: '192.0.02.1', reason: /"02" must be a decimal number 0–255 without leading zeros/ },
    { name: 'fail/IPv4 octal', input: '0177.0.0.1', reason: /"0177" must be a decimal number/ },
    { name: 'fail/IPv4 hex part', input: '0x7f.0.0.1', reason: /"0x7f" must be a decimal number/ },
    { name: 'fail/IPv4 single hex number', input: '0x7f000001', reason: /exactly four decimal parts/ },
    { name: 'fail/IPv4 single decimal number', input: '2130706433', reason: /exactly four decimal parts/ },
    { name: 'fail/IPv4 shortened', input: '127.1', reason: /exactly four decimal parts/ },
    { name: 'fail/IPv4 five parts', input: '1.2.3.4.5', reason: /exactly four decimal parts/ },
    { name: 'fail/IPv4 part over 255', input: '256.0.0.1', reason: /"256" is larger than 255/ },
    { name: 'fail/IPv4 empty part', input: '1..2.3', reason: /empty part/ },
    { name: 'fail/IPv4 trailing dot', input: '1.2.3.4.', reason: /exactly four decimal parts/ },
    { name: 'fail/IPv4 with port', input: '1.2.3.4:443', reason: /embedded IPv4 address may only be the last part/ },
    { name: 'fail/IPv4 CIDR', input: '10.0.0.0/8', reason: /only digits, hex digits, dots and colons/ },
    { name: 'fail/IPv4 surrounding space', input: ' 1.2.3.4', reason: /only digits, hex digits, dots and colons/ },
    { name: 'fail/IPv4 negative', input: '-1.2.3.4', reason: /only digits/ },
    { name: 'fail/IPv6 zone id', input: 'fe80::1%eth0', reason: /zone ids/ },
    { name: 'fail/IPv6 numeric zone id', input: 'fe80::1%1', reason: /zone ids/ },
    { name: 'fail/IPv6 brackets', input: '[2001:db8::1]', reason: /square brackets/ },
    { name: 'fail/IPv6 two "::"', input: '1::2::3', reason: /"::" may appear only once/ },
    { name: 'fail/IPv6 ":::"', input: ':::', reason: /empty group/ },
    { name: 'fail/IPv6 single leading colon', input: ':1:2:3:4:5:6:7', reason: /empty group/ },
    { name: 'fail/IPv6 single trailing colon', input: '1:2:3:4:5:6:7:', reason: /empty group/ },
    { name: 'fail/IPv6 too few groups', input: '1:2:3:4:5:6:7', reason: /7 groups; an IPv6 address has 8/ },
    { name: 'fail/IPv6 too many groups', input: '1:2:3:4:5:6:7:8:9', reason: /9 groups/ },
    { name: 'fail/IPv6 "::" with 8 groups', input: '1:2:3:4:5:6:7::8', reason: /8 groups besides "::"/ },
    { name: 'fail/IPv6 five hex digits', input: '2001:db8::12345', reason: /"12345" must be 1 to 4 hex digits/ },
    { name: 'fail/IPv6 non-hex letter', input: '2001:db8::x', reason: /"x" must be 1 to 4 hex digits/ },
    { name: 'fail/IPv6 embedded IPv4 not last', input: '::1.2.3.4:1', reason: /may only be the last part/ },
    { name: 'fail/IPv6 embedded IPv4 before "::"', input: '1.2.3.4::', reason: /may only be the last part/ },
    { name: 'fail/IPv6 embedded IPv4 with leading zero', input: '::ffff:1.2.3.04', reason: /"04" must be a decimal number/ },
    { name: 'fail/IPv6 embedded IPv4 shortened', input: '::ffff:1.2.3', reason: /embedded IPv4 address "1.2.3" needs exactly four decimal parts/ },
    { name: 'fail/IPv6 embedded IPv4 too many groups', input: '1:2:3:4:5:6:7:1.2.3.4', reason: /9 groups/ },
    { name: 'fail/too long', input: `${'0:'.repeat(30)}1`, reason: /61 characters long/ },
    { name: 'fail/host name', input: 'example.com', reason: /only digits, hex digits, dots and colons/ },
  ];
  it.each(fail)('$name', ({ input, reason }) => {
    const error = ipErrorOf(() => canonicalizeIp(input));
    expect(error.reason).toMatch(reason);
    expect(error.input).toBe(input);
    expect(error.message).toContain('is not a valid IP address');
  });
});

describe('ipToOctets', () => {
  const fail: { name: string; input: string; reason: RegExp }[] = [
    { name: 'fail/upper-case IPv6', input: '2001:DB8::1', reason: /not in canonical form \("2001:db8::1"\)/ },
    { name: 'fail/uncompressed IPv6', input: '2001:db8:0:0:0:0:0:1', reason: /not in canonical form \("2001:db8::1"\)/ },
    { name: 'fail/IPv4-mapped in hex', input: '::ffff:c000:201', reason: /not in canonical form \("::ffff:192.0.2.1"\)/ },
    { name: 'fail/IPv4 leading zero', input: '010.0.0.1', reason: /without leading zeros/ },
  ];
  it.each(fail)('$name', ({ input, reason }) => {
    expect(ipErrorOf(() => ipToOctets(input)).reason).toMatch(reason);
  });
});

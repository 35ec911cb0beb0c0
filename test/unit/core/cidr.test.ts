import { describe, expect, it } from 'vitest';
import { canonicalizeCidr, cidrContains, cidrMask, IpError, parseCidr } from '../../../core/ip.js';

describe('parseCidr / canonicalizeCidr', () => {
  const ok: [string, string, string][] = [
    ['ok/IPv4 /8', '10.0.0.0/8', '10.0.0.0/8'],
    ['ok/IPv4 /32', '192.0.2.7/32', '192.0.2.7/32'],
    ['ok/IPv4 /0', '0.0.0.0/0', '0.0.0.0/0'],
    ['ok/IPv6 long form is canonicalized', '2001:0db8:0000:0000:0000:0000:0000:0000/32', '2001:db8::/32'],
    ['ok/IPv6 /128', '::1/128', '::1/128'],
  ];
  it.each(ok)('%s', (_name, input, want) => {
    expect(canonicalizeCidr(input)).toBe(want);
  });

  const bad: [string, string, RegExp][] = [
    ['fail/no prefix', '10.0.0.0', /prefix length/],
    ['fail/host bits set', '10.0.0.1/8', /host bits set; the network is "10.0.0.0\/8"/],
    ['fail/IPv4 prefix too long', '10.0.0.0/33', /0 to 32/],
    ['fail/IPv6 prefix too long', '2001:db8::/129', /0 to 128/],
    ['fail/leading zero prefix', '10.0.0.0/08', /decimal/],
    ['fail/empty prefix', '10.0.0.0/', /decimal/],
    ['fail/bad address', '10.0.0/8', /four decimal parts/],
    ['fail/IPv6 host bits', '2001:db8::1/64', /host bits/],
  ];
  it.each(bad)('%s', (_name, input, message) => {
    expect(() => parseCidr(input)).toThrow(IpError);
    expect(() => parseCidr(input)).toThrow(message);
  });
});

describe('cidrContains', () => {
  const cases: [string, string, string, boolean][] = [
    ['ok/inside /20', '172.16.0.0/20', '172.16.15.255', true],
    ['fail/just past /20', '172.16.0.0/20', '172.16.16.0', false],
    ['ok/IPv6 /48', '2001:db8:aa::/48', '2001:db8:aa:1::1', true],
    ['fail/IPv6 outside', '2001:db8:aa::/48', '2001:db8:ab::', false],
    ['ok/an IPv4-mapped address is its IPv4 host', '0.0.0.0/0', '::ffff:1.2.3.4', true],
    ['fail/an IPv4-mapped address is not in an IPv6 range', '::/0', '::ffff:1.2.3.4', false],
    ['fail/families never mix (v6 range)', '::/0', '1.2.3.4', false],
  ];
  it.each(cases)('%s', (_name, range, address, want) => {
    expect(cidrContains(parseCidr(range), address)).toBe(want);
  });

  it('ok/the mask of a /20 and a /48', () => {
    expect(Array.from(cidrMask(parseCidr('172.16.0.0/20')))).toEqual([255, 255, 240, 0]);
    expect(Array.from(cidrMask(parseCidr('2001:db8:aa::/48'))).slice(0, 8)).toEqual([255, 255, 255, 255, 255, 255, 0, 0]);
  });
});

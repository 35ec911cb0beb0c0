import { describe, expect, it } from 'vitest';
import { parseAddressRange } from '../../../core/address-ranges.js';
import {
  checkDestinationHost,
  checkResolvedAddress,
  parseRangeList,
  type DestinationHostPolicy,
  type DestinationRefusalCode,
  type PlatformDestinationRules,
} from '../../../core/destination-hosts.js';

const PLATFORM: PlatformDestinationRules = {
  services: [
    { name: 'Postgres', host: '127.0.0.1', port: 5433 },
    { name: 'Temporal server', host: 'temporal.internal', port: 7233 },
    { name: 'API', host: '10.0.0.5', port: 8080 },
  ],
  allowedExceptions: [],
  extraDenied: ['10.96.0.0/12'],
};
const DEVELOPMENT: PlatformDestinationRules = { ...PLATFORM, allowedExceptions: ['127.0.0.0/8', '::1/128'] };
const TEAM: DestinationHostPolicy = { zones: ['payments.internal'], cidrs: ['10.1.0.0/16', '2001:db8::/32', '127.0.0.0/8', '::1/128', '169.254.0.0/16'], ports: [] };
const PORTS_443: DestinationHostPolicy = { ...TEAM, ports: [443, 8443] };
const PRIVATE: DestinationHostPolicy = { ...TEAM, cidrs: ['10.0.0.0/8'] };
const MAPPED_SERVICE: PlatformDestinationRules = { ...PLATFORM, services: [...PLATFORM.services, { name: 'Metrics', host: '[::ffff:10.0.0.6]', port: 8081 }] };

interface Case {
  name: string;
  host: string;
  port: number;
  policy?: DestinationHostPolicy | undefined;
  platform?: PlatformDestinationRules;
  want: DestinationRefusalCode | null;
  message?: RegExp;
}

describe('checkDestinationHost (request time)', () => {
  const cases: Case[] = [
    { name: 'ok/name in an allowed zone', host: 'hooks.payments.internal', port: 443, policy: TEAM, want: null },
    { name: 'ok/the zone itself', host: 'payments.internal', port: 443, policy: TEAM, want: null },
    { name: 'ok/name with a trailing dot and upper case', host: 'Hooks.Payments.Internal.', port: 443, policy: TEAM, want: null },
    { name: 'ok/IPv4 in an allowed range', host: '10.1.2.3', port: 8443, policy: TEAM, want: null },
    { name: 'ok/IPv6 in an allowed range, bracketed as in URLs', host: '[2001:db8::7]', port: 443, policy: TEAM, want: null },
    { name: 'ok/IPv4-mapped IPv6 matches the IPv4 range', host: '::ffff:10.1.0.9', port: 443, policy: TEAM, want: null },
    { name: 'ok/listed port', host: 'hooks.payments.internal', port: 8443, policy: PORTS_443, want: null },
    { name: 'ok/loopback with the operator exception', host: '127.0.0.1', port: 9999, policy: TEAM, platform: DEVELOPMENT, want: null },
    { name: 'ok/IPv6 loopback with the operator exception', host: '::1', port: 9999, policy: TEAM, platform: DEVELOPMENT, want: null },
    { name: 'fail/no destinationHosts in the policy allows nothing', host: 'hooks.payments.internal', port: 443, policy: undefined, want: 'no_destination_policy' },
    { name: 'fail/name outside the zones', host: 'evil.example.com', port: 443, policy: TEAM, want: 'host_not_allowed', message: /outside the team's allowed zones \(payments\.internal\)/ },
    { name: 'fail/suffix that is not a zone boundary', host: 'evilpayments.internal', port: 443, policy: TEAM, want: 'host_not_allowed' },
    { name: 'fail/IPv4 outside the ranges', host: '10.2.0.1', port: 443, policy: TEAM, want: 'address_not_allowed' },
    { name: 'fail/port not listed', host: 'hooks.payments.internal', port: 22, policy: PORTS_443, want: 'port_not_allowed' },
    { name: 'fail/cloud metadata, even when the team lists its range', host: '169.254.169.254', port: 80, policy: TEAM, want: 'address_denied', message: /link-local/ },
    { name: 'fail/metadata as IPv4-mapped IPv6', host: '[::ffff:169.254.169.254]', port: 80, policy: TEAM, want: 'address_denied' },
    { name: 'fail/metadata as IPv4-mapped IPv6 in hex', host: '::ffff:a9fe:a9fe', port: 80, policy: TEAM, want: 'address_denied' },
    { name: 'fail/metadata through NAT64', host: '64:ff9b::a9fe:a9fe', port: 80, policy: TEAM, want: 'address_denied' },
    { name: 'fail/metadata through 6to4', host: '2002:a9fe:a9fe::1', port: 80, policy: TEAM, want: 'address_denied' },
    { name: 'fail/AWS IPv6 metadata', host: 'fd00:ec2::254', port: 80, policy: TEAM, want: 'address_denied', message: /metadata/ },
    { name: 'fail/loopback without the exception', host: '127.0.0.1', port: 9999, policy: TEAM, want: 'address_denied', message: /loopback/ },
    { name: 'fail/other loopback address', host: '127.8.9.10', port: 9999, policy: TEAM, want: 'address_denied' },
    { name: 'fail/IPv6 loopback', host: '::1', port: 9999, policy: TEAM, want: 'address_denied' },
    { name: 'fail/IPv4-mapped loopback', host: '::ffff:127.0.0.1', port: 9999, policy: TEAM, want: 'address_denied' },
    { name: 'fail/IPv4-compatible loopback', host: '::127.0.0.1', port: 9999, policy: TEAM, want: 'address_denied' },
    { name: 'fail/unspecified IPv4', host: '0.0.0.0', port: 9999, policy: TEAM, want: 'address_denied', message: /unspecified/ },
    { name: 'fail/unspecified IPv6', host: '::', port: 9999, policy: TEAM, want: 'address_denied' },
    { name: 'fail/IPv6 link-local', host: 'fe80::1', port: 443, policy: TEAM, want: 'address_denied' },
    { name: 'fail/multicast', host: '224.0.0.251', port: 5353, policy: TEAM, want: 'address_denied', message: /multicast/ },
    { name: 'fail/broadcast', host: '255.255.255.255', port: 9, policy: TEAM, want: 'address_denied' },
    { name: 'fail/the platform Postgres, even with the loopback exception', host: '127.0.0.1', port: 5433, policy: TEAM, platform: DEVELOPMENT, want: 'platform_service', message: /Postgres/ },
    { name: 'fail/the platform Postgres on another loopback address', host: '127.0.0.2', port: 5433, policy: TEAM, platform: DEVELOPMENT, want: 'platform_service' },
    { name: 'fail/the platform Postgres on IPv6 loopback', host: '::1', port: 5433, policy: TEAM, platform: DEVELOPMENT, want: 'platform_service' },
    { name: 'fail/the platform Postgres on the unspecified address', host: '0.0.0.0', port: 5433, policy: TEAM, platform: DEVELOPMENT, want: 'platform_service' },
    { name: 'fail/the platform API at its own address', host: '10.0.0.5', port: 8080, policy: { ...TEAM, cidrs: ['10.0.0.0/8'] }, want: 'platform_service', message: /API/ },
    { name: 'fail/the platform Temporal by its name', host: 'temporal.internal', port: 7233, policy: { ...TEAM, zones: ['internal'] }, want: 'platform_service' },
    { name: 'fail/an operator-denied range wins over the team', host: '10.96.0.1', port: 443, policy: { ...TEAM, cidrs: ['10.0.0.0/8'] }, want: 'address_denied', message: /10\.96\.0\.0\/12/ },
    { name: 'fail/localhost is loopback whatever DNS says', host: 'localhost', port: 80, policy: { ...TEAM, zones: ['localhost'] }, want: 'address_denied', message: /RFC 6761/ },
    { name: 'fail/a name under localhost', host: 'hooks.localhost', port: 80, policy: { ...TEAM, zones: ['localhost'] }, want: 'address_denied' },
    { name: 'fail/localhost on the platform port with the exception', host: 'localhost', port: 5433, policy: { ...TEAM, zones: ['localhost'] }, platform: DEVELOPMENT, want: 'platform_service' },
    { name: 'fail/shortened IPv4 is not a name', host: '127.1', port: 80, policy: TEAM, want: 'host_invalid' },
    { name: 'fail/single-number IPv4 is not a name', host: '2130706433', port: 80, policy: TEAM, want: 'host_invalid' },
    { name: 'fail/hex IPv4 is not a name', host: '0x7f.0x0.0x0.0x1', port: 80, policy: TEAM, want: 'host_invalid' },
    { name: 'fail/IPv6 zone id', host: 'fe80::1%eth0', port: 80, policy: TEAM, want: 'host_invalid' },
    { name: 'fail/garbage', host: 'a b', port: 80, policy: TEAM, want: 'host_invalid' },
    // A platform service is the same destination whatever IPv6 form embeds its IPv4 address.
    { name: 'fail/the platform API as IPv4-mapped IPv6', host: '::ffff:10.0.0.5', port: 8080, policy: PRIVATE, want: 'platform_service', message: /API/ },
    { name: 'fail/the platform API as IPv4-mapped IPv6 in hex, bracketed', host: '[::ffff:a00:5]', port: 8080, policy: PRIVATE, want: 'platform_service' },
    { name: 'fail/the platform API through NAT64', host: '64:ff9b::a00:5', port: 8080, policy: PRIVATE, want: 'platform_service' },
    { name: 'fail/the platform API as IPv4-compatible IPv6', host: '::10.0.0.5', port: 8080, policy: PRIVATE, want: 'platform_service' },
    { name: 'fail/the platform API through 6to4', host: '2002:a00:5::1', port: 8080, policy: PRIVATE, want: 'platform_service' },
    { name: 'fail/the platform API without any team policy', host: '::ffff:10.0.0.5', port: 8080, policy: undefined, want: 'platform_service' },
    { name: 'fail/a service written in IPv4-mapped form, asked for as IPv4', host: '10.0.0.6', port: 8081, policy: PRIVATE, platform: MAPPED_SERVICE, want: 'platform_service' },
    { name: 'ok/the platform API address on another port', host: '::ffff:10.0.0.5', port: 443, policy: PRIVATE, want: null },
    { name: 'ok/a neighbour of the platform API on its port', host: '::ffff:10.0.0.4', port: 8080, policy: PRIVATE, want: null },
  ];
  it.each(cases)('$name', ({ host, port, policy, platform, want, message }) => {
    const refusal = checkDestinationHost(host, port, policy, platform ?? PLATFORM);
    expect(refusal?.code ?? null).toBe(want);
    if (message) expect(refusal?.message).toMatch(message);
  });
});

describe('checkResolvedAddress (connect time)', () => {
  const cases: Array<{ name: string; address: string; port: number; services?: Map<string, string[]>; platform?: PlatformDestinationRules; want: DestinationRefusalCode | null }> = [
    { name: 'ok/a private address (the team policy decided on the name)', address: '10.1.2.3', port: 443, want: null },
    { name: 'ok/a public IPv6 address', address: '2001:db8::1', port: 443, want: null },
    { name: 'ok/loopback with the exception on another port', address: '127.0.0.1', port: 40000, platform: DEVELOPMENT, want: null },
    { name: 'fail/loopback', address: '127.0.0.1', port: 40000, want: 'address_denied' },
    { name: 'fail/metadata', address: '169.254.169.254', port: 80, platform: DEVELOPMENT, want: 'address_denied' },
    { name: 'fail/where the Temporal name resolves to', address: '10.9.9.9', port: 7233, services: new Map([['temporal.internal', ['10.9.9.9']]]), want: 'platform_service' },
    { name: 'ok/that address on another port', address: '10.9.9.9', port: 443, services: new Map([['temporal.internal', ['10.9.9.9']]]), want: null },
    { name: 'fail/not an address', address: 'example.com', port: 80, want: 'host_invalid' },
    { name: 'fail/the platform API as IPv4-mapped IPv6', address: '::ffff:10.0.0.5', port: 8080, want: 'platform_service' },
    { name: 'fail/the platform API as IPv4-mapped IPv6 in hex', address: '::ffff:a00:5', port: 8080, want: 'platform_service' },
    { name: 'fail/the platform API through NAT64', address: '64:ff9b::a00:5', port: 8080, want: 'platform_service' },
    { name: 'fail/the platform API as IPv4-compatible IPv6', address: '::a00:5', port: 8080, want: 'platform_service' },
    { name: 'fail/the platform API through 6to4', address: '2002:a00:5:1::9', port: 8080, want: 'platform_service' },
    { name: 'fail/where the Temporal name resolves to, as IPv4-mapped IPv6', address: '::ffff:10.9.9.9', port: 7233, services: new Map([['temporal.internal', ['10.9.9.9']]]), want: 'platform_service' },
    { name: 'fail/where the Temporal name resolves to, through NAT64', address: '64:ff9b::a09:909', port: 7233, services: new Map([['temporal.internal', ['10.9.9.9']]]), want: 'platform_service' },
    { name: 'fail/the Temporal name resolves to an IPv4-mapped address, reached as IPv4', address: '10.9.9.9', port: 7233, services: new Map([['temporal.internal', ['::ffff:10.9.9.9']]]), want: 'platform_service' },
    { name: 'fail/a service written in IPv4-mapped form, reached through NAT64', address: '64:ff9b::a00:6', port: 8081, platform: MAPPED_SERVICE, want: 'platform_service' },
    { name: 'ok/the platform API address through NAT64 on another port', address: '64:ff9b::a00:5', port: 443, want: null },
    { name: 'ok/a neighbour of the platform API through NAT64', address: '64:ff9b::a00:4', port: 8080, want: null },
    { name: 'ok/an IPv6 address that embeds no IPv4 address and only shares the low bits', address: '2001:db8::a00:5', port: 8080, want: null },
  ];
  it.each(cases)('$name', ({ address, port, services, platform, want }) => {
    expect(checkResolvedAddress(address, port, platform ?? PLATFORM, services)?.code ?? null).toBe(want);
  });
});

describe('parseAddressRange', () => {
  it.each([
    ['ok/IPv4', '10.0.0.0/8', '10.0.0.0/8'],
    ['ok/bare address is a host range', '192.0.2.1', '192.0.2.1/32'],
    ['ok/IPv6 is canonicalized', '2001:DB8:0::/32', '2001:db8::/32'],
    ['ok/zero prefix', '0.0.0.0/0', '0.0.0.0/0'],
  ])('%s', (_name, input, want) => expect(parseAddressRange(input).text).toBe(want));
  it.each([
    ['fail/host bits set', '10.0.0.1/8', /host bits are set; the network is 10\.0\.0\.0\/8/],
    ['fail/prefix too long', '10.0.0.0/33', /at most 32/],
    ['fail/not a number', '10.0.0.0/x', /prefix length/],
    ['fail/two slashes', '10.0.0.0/8/9', /one "\/"/],
    ['fail/not an address', 'example.com/8', /not a valid IP address/],
  ])('%s', (_name, input, message) => expect(() => parseAddressRange(input)).toThrow(message));
});

describe('parseRangeList (operator configuration)', () => {
  it('ok/loopback keyword and ranges', () => expect(parseRangeList('loopback, 10.0.0.0/8')).toEqual(['127.0.0.0/8', '::1/128', '10.0.0.0/8']));
  it('ok/empty', () => expect(parseRangeList(' ')).toEqual([]));
  it('fail/a bad entry names itself', () => expect(() => parseRangeList('loopback,10.0.0.1/8')).toThrow(/10\.0\.0\.1\/8/));
});

import { describe, expect, it } from 'vitest';
import { evaluatePolicy, POLICY_CHAIN, policyViolations, type PolicyRequest, type PolicyViolationCode, type TeamPolicy } from '../../../core/policy.js';

const policy: TeamPolicy = {
  allowedDomains: ['example.com', 'svc.internal.example.net'],
  allowWildcards: true,
  allowIpSans: true,
  maxValiditySeconds: 90 * 86_400,
  keyAlgorithms: ['ECDSA-P256', 'RSA-2048'],
  profiles: ['tls-server', 'mtls'],
  allowedUris: { spiffe: [{ trustDomain: 'example.com', pathPrefixes: ['/svc'] }], httpsHosts: [] },
};

const request: PolicyRequest = {
  dnsNames: ['api.example.com'],
  ipAddresses: [],
  uris: [],
  profile: 'tls-server',
  keyAlgorithm: 'ECDSA-P256',
  validitySeconds: 30 * 86_400,
};

interface Case {
  name: string;
  request?: Partial<PolicyRequest>;
  policy?: Partial<TeamPolicy>;
  want: PolicyViolationCode | null;
}

describe('evaluatePolicy', () => {
  const cases: Case[] = [
    // allowed
    { name: 'ok/baseline', want: null },
    { name: 'ok/name equal to a zone', request: { dnsNames: ['example.com'] }, want: null },
    { name: 'ok/deep name in the second zone', request: { dnsNames: ['a.b.svc.internal.example.net'] }, want: null },
    { name: 'ok/wildcard within its parent zone', request: { dnsNames: ['*.example.com'] }, want: null },
    { name: 'ok/wildcard under a sub-zone', request: { dnsNames: ['*.svc.internal.example.net'] }, want: null },
    { name: 'ok/validity equal to the maximum', request: { validitySeconds: 90 * 86_400 }, want: null },
    { name: 'ok/IP SAN when allowed', request: { ipAddresses: ['10.0.0.1'] }, want: null },
    { name: 'ok/URI SAN on mtls', request: { profile: 'mtls', uris: ['spiffe://example.com/svc'] }, want: null },
    { name: 'ok/URI SAN on tls-client', request: { profile: 'tls-client', uris: ['spiffe://example.com/svc'] }, policy: { profiles: ['tls-client'] }, want: null },
    { name: 'ok/no DNS names at all', request: { dnsNames: [], ipAddresses: ['10.0.0.1'] }, want: null },
    { name: 'ok/no names and no zones', request: { dnsNames: [] }, policy: { allowedDomains: [] }, want: null },
    // one violation each
    { name: 'fail/profile_not_allowed', request: { profile: 'tls-client' }, want: 'profile_not_allowed' },
    { name: 'fail/profile_not_allowed, empty list', policy: { profiles: [] }, want: 'profile_not_allowed' },
    { name: 'fail/key_algorithm_not_allowed', request: { keyAlgorithm: 'Ed25519' }, want: 'key_algorithm_not_allowed' },
    { name: 'fail/validity_too_long by one second', request: { validitySeconds: 90 * 86_400 + 1 }, want: 'validity_too_long' },
    { name: 'fail/wildcard_not_allowed', request: { dnsNames: ['*.example.com'] }, policy: { allowWildcards: false }, want: 'wildcard_not_allowed' },
    { name: 'fail/wildcard_not_allowed, 2nd name', request: { dnsNames: ['api.example.com', '*.example.com'] }, policy: { allowWildcards: false }, want: 'wildcard_not_allowed' },
    { name: 'fail/name_outside_allowed_domains', request: { dnsNames: ['api.example.org'] }, want: 'name_outside_allowed_domains' },
    { name: 'fail/outside domains: no dot boundary', request: { dnsNames: ['badexample.com'] }, want: 'name_outside_allowed_domains' },
    { name: 'fail/outside domains: zone parent', request: { dnsNames: ['internal.example.net'] }, want: 'name_outside_allowed_domains' },
    { name: 'fail/outside domains: * above zone', request: { dnsNames: ['*.internal.example.net'] }, want: 'name_outside_allowed_domains' },
    { name: 'fail/outside domains: 2nd name', request: { dnsNames: ['api.example.com', 'api.example.org'] }, want: 'name_outside_allowed_domains' },
    { name: 'fail/outside domains: no zones', policy: { allowedDomains: [] }, want: 'name_outside_allowed_domains' },
    { name: 'fail/ip_sans_not_allowed', request: { ipAddresses: ['10.0.0.1'] }, policy: { allowIpSans: false }, want: 'ip_sans_not_allowed' },
    { name: 'fail/uri_sans_not_allowed', request: { uris: ['spiffe://example.com/svc'] }, want: 'uri_sans_not_allowed' },
    // first violation wins, in chain order
    {
      name: 'fail/profile beats every later check',
      request: { profile: 'tls-client', keyAlgorithm: 'Ed25519', validitySeconds: 10 ** 9, dnsNames: ['*.example.org'], ipAddresses: ['10.0.0.1'], uris: ['spiffe://x/y'] },
      policy: { allowWildcards: false, allowIpSans: false },
      want: 'profile_not_allowed',
    },
    {
      name: 'fail/key algorithm beats validity',
      request: { keyAlgorithm: 'Ed25519', validitySeconds: 10 ** 9, dnsNames: ['*.example.org'] },
      policy: { allowWildcards: false },
      want: 'key_algorithm_not_allowed',
    },
    {
      name: 'fail/validity beats wildcard',
      request: { validitySeconds: 10 ** 9, dnsNames: ['*.example.org'], ipAddresses: ['10.0.0.1'] },
      policy: { allowWildcards: false, allowIpSans: false },
      want: 'validity_too_long',
    },
    {
      name: 'fail/wildcard beats domains',
      request: { dnsNames: ['api.example.org', '*.example.org'] },
      policy: { allowWildcards: false },
      want: 'wildcard_not_allowed',
    },
    {
      name: 'fail/domains beat IP SANs',
      request: { dnsNames: ['api.example.org'], ipAddresses: ['10.0.0.1'], uris: ['spiffe://x/y'] },
      policy: { allowIpSans: false },
      want: 'name_outside_allowed_domains',
    },
    {
      name: 'fail/IP SANs beat URI SANs',
      request: { ipAddresses: ['10.0.0.1'], uris: ['spiffe://x/y'] },
      policy: { allowIpSans: false },
      want: 'ip_sans_not_allowed',
    },
  ];

  it.each(cases)('$name', (tc) => {
    const violation = evaluatePolicy({ ...request, ...tc.request }, { ...policy, ...tc.policy });
    if (tc.want === null) {
      expect(violation).toBeNull();
    } else {
      expect(violation?.code).toBe(tc.want);
      expect(violation?.message).toEqual(expect.any(String));
      expect(violation?.message.length).toBeGreaterThan(10);
    }
  });

  it('ok/the message names the offending value', () => {
    expect(evaluatePolicy({ ...request, dnsNames: ['api.example.org'] }, policy)?.message).toContain('"api.example.org"');
    expect(evaluatePolicy({ ...request, dnsNames: ['*.example.com'] }, { ...policy, allowWildcards: false })?.message).toContain('"*.example.com"');
    expect(evaluatePolicy(request, { ...policy, allowedDomains: [] })?.message).toContain('none configured');
  });

  it('ok/the chain has one check per rule', () => {
    expect(POLICY_CHAIN).toHaveLength(10);
  });
});

/** The rules over IP addresses and URIs, and the validity floor: every violation, in chain order. */
describe('policyViolations over every name type', () => {
  const strict: TeamPolicy = {
    allowedDomains: ['payments.internal'],
    allowWildcards: true,
    allowIpSans: true,
    allowedIpRanges: ['10.20.0.0/16', '192.0.2.7/32', '2001:db8:aa::/48'],
    allowedUris: {
      spiffe: [
        { trustDomain: 'prod', pathPrefixes: ['/ns/payments'] },
        { trustDomain: 'staging.example', pathPrefixes: ['/'] },
      ],
      httpsHosts: ['payments.example.com'],
    },
    maxValiditySeconds: 30 * 86_400,
    minValiditySeconds: 3600,
    keyAlgorithms: ['ECDSA-P256'],
    profiles: ['tls-server', 'tls-client', 'mtls'],
  };
  const mtls: PolicyRequest = { dnsNames: [], ipAddresses: [], uris: [], profile: 'mtls', keyAlgorithm: 'ECDSA-P256', validitySeconds: 86_400 };

  interface NameCase {
    name: string;
    request: Partial<PolicyRequest>;
    policy?: Partial<TeamPolicy>;
    want: PolicyViolationCode[];
  }
  const cases: NameCase[] = [
    // IP addresses
    { name: 'ok/IPv4 inside a /16', request: { ipAddresses: ['10.20.255.1'] }, want: [] },
    { name: 'ok/IPv4 equal to a /32', request: { ipAddresses: ['192.0.2.7'] }, want: [] },
    { name: 'ok/IPv6 inside a /48', request: { ipAddresses: ['2001:db8:aa:ffff::1'] }, want: [] },
    { name: 'ok/legacy policy: allowIpSans without ranges allows any address', request: { ipAddresses: ['203.0.113.9', '::1'] }, policy: { allowedIpRanges: undefined }, want: [] },
    { name: 'ok/0.0.0.0/0 allows every IPv4 address', request: { ipAddresses: ['203.0.113.9'] }, policy: { allowedIpRanges: ['0.0.0.0/0'] }, want: [] },
    { name: 'fail/IPv4 just outside the /16', request: { ipAddresses: ['10.21.0.0'] }, want: ['ip_outside_allowed_ranges'] },
    { name: 'fail/IPv4 next to the /32', request: { ipAddresses: ['192.0.2.8'] }, want: ['ip_outside_allowed_ranges'] },
    { name: 'fail/IPv6 outside the /48', request: { ipAddresses: ['2001:db8:ab::1'] }, want: ['ip_outside_allowed_ranges'] },
    { name: 'ok/IPv4-mapped IPv6 is decided as its IPv4 host', request: { ipAddresses: ['::ffff:10.20.0.1'] }, want: [] },
    { name: 'fail/IPv4-mapped IPv6 outside the IPv4 ranges', request: { ipAddresses: ['::ffff:10.21.0.1'] }, want: ['ip_outside_allowed_ranges'] },
    { name: 'fail/an IPv6 range does not admit an IPv4 host in disguise', request: { ipAddresses: ['::ffff:192.168.7.7'] }, policy: { allowedIpRanges: ['::/0'] }, want: ['ip_outside_allowed_ranges'] },
    { name: 'fail/0.0.0.0/0 does not allow IPv6', request: { ipAddresses: ['2001:db8::1'] }, policy: { allowedIpRanges: ['0.0.0.0/0'] }, want: ['ip_outside_allowed_ranges'] },
    { name: 'fail/empty range list allows none', request: { ipAddresses: ['10.20.0.1'] }, policy: { allowedIpRanges: [] }, want: ['ip_outside_allowed_ranges'] },
    { name: 'fail/a stored range that no longer parses allows nothing', request: { ipAddresses: ['10.20.0.1'] }, policy: { allowedIpRanges: ['10.20.0.1/16'] }, want: ['ip_outside_allowed_ranges'] },
    { name: 'fail/allowIpSans false wins over ranges', request: { ipAddresses: ['10.20.0.1'] }, policy: { allowIpSans: false }, want: ['ip_sans_not_allowed'] },
    { name: 'fail/one violation per offending address', request: { ipAddresses: ['10.20.0.1', '10.99.0.1', '2001:db8:ff::1'] }, want: ['ip_outside_allowed_ranges', 'ip_outside_allowed_ranges'] },
    // SPIFFE IDs
    { name: 'ok/SPIFFE ID equal to the prefix', request: { uris: ['spiffe://prod/ns/payments'] }, want: [] },
    { name: 'ok/SPIFFE ID under the prefix', request: { uris: ['spiffe://prod/ns/payments/sa/api'] }, want: [] },
    { name: 'ok/SPIFFE prefix "/" allows every path', request: { uris: ['spiffe://staging.example/anything/at/all'] }, want: [] },
    { name: 'fail/SPIFFE prefix is segment-wise', request: { uris: ['spiffe://prod/ns/payments-admin/sa/x'] }, want: ['uri_outside_allowed_spiffe'] },
    { name: 'fail/SPIFFE other path in the trust domain', request: { uris: ['spiffe://prod/ns/billing/sa/api'] }, want: ['uri_outside_allowed_spiffe'] },
    { name: 'fail/SPIFFE other trust domain', request: { uris: ['spiffe://prod2/ns/payments/sa/api'] }, want: ['uri_outside_allowed_spiffe'] },
    { name: 'fail/SPIFFE upper-case trust domain', request: { uris: ['spiffe://Prod/ns/payments/sa/api'] }, want: ['uri_malformed'] },
    { name: 'fail/SPIFFE with port', request: { uris: ['spiffe://prod:443/ns/payments'] }, want: ['uri_malformed'] },
    { name: 'fail/SPIFFE with userinfo', request: { uris: ['spiffe://admin@prod/ns/payments'] }, want: ['uri_malformed'] },
    { name: 'fail/SPIFFE with query', request: { uris: ['spiffe://prod/ns/payments?x=1'] }, want: ['uri_malformed'] },
    { name: 'fail/SPIFFE with fragment', request: { uris: ['spiffe://prod/ns/payments#a'] }, want: ['uri_malformed'] },
    { name: 'fail/SPIFFE dot-dot escaping the prefix', request: { uris: ['spiffe://prod/ns/payments/../admin'] }, want: ['uri_malformed'] },
    { name: 'fail/SPIFFE dot segment', request: { uris: ['spiffe://prod/ns/payments/./x'] }, want: ['uri_malformed'] },
    { name: 'fail/SPIFFE empty segment', request: { uris: ['spiffe://prod/ns//payments'] }, want: ['uri_malformed'] },
    { name: 'fail/SPIFFE trailing slash', request: { uris: ['spiffe://prod/ns/payments/'] }, want: ['uri_malformed'] },
    { name: 'fail/SPIFFE percent-encoding', request: { uris: ['spiffe://prod/ns/payments/%2e%2e'] }, want: ['uri_malformed'] },
    { name: 'fail/SPIFFE trust domain only', request: { uris: ['spiffe://prod'] }, want: ['uri_malformed'] },
    { name: 'fail/SPIFFE upper-case scheme', request: { uris: ['SPIFFE://prod/ns/payments'] }, want: ['uri_malformed'] },
    { name: 'fail/legacy policy without allowedUris allows no URI', request: { uris: ['spiffe://prod/ns/payments'] }, policy: { allowedUris: undefined }, want: ['uri_outside_allowed_spiffe'] },
    // https URIs and other schemes
    { name: 'ok/https host equal to the zone', request: { uris: ['https://payments.example.com'] }, want: [] },
    { name: 'ok/https host under the zone, with a path', request: { uris: ['https://api.payments.example.com/v1/pay'] }, want: [] },
    { name: 'fail/https host outside the zone', request: { uris: ['https://x.example'] }, want: ['uri_outside_allowed_https_hosts'] },
    { name: 'fail/https host with no dot boundary', request: { uris: ['https://evilpayments.example.com'] }, want: ['uri_outside_allowed_https_hosts'] },
    { name: 'fail/https with userinfo', request: { uris: ['https://payments.example.com@evil.example'] }, want: ['uri_malformed'] },
    { name: 'fail/https with port', request: { uris: ['https://payments.example.com:8443/'] }, want: ['uri_malformed'] },
    { name: 'fail/https with IP literal', request: { uris: ['https://[::1]/'] }, want: ['uri_malformed'] },
    { name: 'fail/https with IPv4 host', request: { uris: ['https://10.20.0.1/'] }, want: ['uri_malformed'] },
    { name: 'fail/https with query', request: { uris: ['https://payments.example.com/?a=b'] }, want: ['uri_malformed'] },
    { name: 'fail/http scheme', request: { uris: ['http://payments.example.com/'] }, want: ['uri_scheme_not_allowed'] },
    { name: 'fail/urn scheme', request: { uris: ['urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66'] }, want: ['uri_scheme_not_allowed'] },
    { name: 'fail/no scheme', request: { uris: ['prod/ns/payments'] }, want: ['uri_malformed'] },
    { name: 'fail/URI on tls-server', request: { uris: ['spiffe://prod/ns/payments'], profile: 'tls-server' }, want: ['uri_sans_not_allowed'] },
    // validity floor
    { name: 'ok/validity equal to the minimum', request: { validitySeconds: 3600 }, want: [] },
    { name: 'fail/validity_too_short by one second', request: { validitySeconds: 3599 }, want: ['validity_too_short'] },
    { name: 'ok/no minimum in a legacy policy', request: { validitySeconds: 60 }, policy: { minValiditySeconds: undefined }, want: [] },
    // all at once
    {
      name: 'fail/every violation is reported, one per offending name, in chain order',
      request: {
        dnsNames: ['api.payments.internal', 'admin.example.org'],
        ipAddresses: ['10.99.0.1'],
        uris: ['spiffe://prod/ns/payments/sa/ok', 'spiffe://prod/ns/payments-admin/sa/admin', 'https://x.example', 'http://payments.example.com'],
      },
      want: ['name_outside_allowed_domains', 'ip_outside_allowed_ranges', 'uri_outside_allowed_spiffe', 'uri_outside_allowed_https_hosts', 'uri_scheme_not_allowed'],
    },
  ];

  it.each(cases)('$name', (tc) => {
    const violations = policyViolations({ ...mtls, ...tc.request }, { ...strict, ...tc.policy });
    expect(violations.map((violation) => violation.code)).toEqual(tc.want);
    expect(evaluatePolicy({ ...mtls, ...tc.request }, { ...strict, ...tc.policy })?.code ?? null).toBe(tc.want[0] ?? null);
  });

  it('ok/each name violation names its field and the offending value', () => {
    const [violation] = policyViolations({ ...mtls, uris: ['https://x.example'] }, strict);
    expect(violation).toMatchObject({ field: 'uris', name: 'https://x.example' });
    expect(violation!.message).toContain('"https://x.example"');
    const [ip] = policyViolations({ ...mtls, ipAddresses: ['2001:db8:ab::1'] }, strict);
    expect(ip).toMatchObject({ field: 'ipAddresses', name: '2001:db8:ab::1' });
  });
});

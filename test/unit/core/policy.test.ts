import { describe, expect, it } from 'vitest';
import { evaluatePolicy, POLICY_CHAIN, type PolicyRequest, type PolicyViolationCode, type TeamPolicy } from '../../../core/policy.js';

const policy: TeamPolicy = {
  allowedDomains: ['example.com', 'svc.internal.example.net'],
  allowWildcards: true,
  allowIpSans: true,
  maxValiditySeconds: 90 * 86_400,
  keyAlgorithms: ['ECDSA-P256', 'RSA-2048'],
  profiles: ['tls-server', 'mtls'],
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

  it('ok/the chain has one check per violation code', () => {
    expect(POLICY_CHAIN).toHaveLength(7);
  });
});

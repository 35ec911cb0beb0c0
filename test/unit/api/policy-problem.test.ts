import { describe, expect, it } from 'vitest';
import { policyProblem } from '../../../api/policy-problem.js';
import type { PolicyViolation } from '../../../core/policy.js';

describe('policyProblem', () => {
  const violation = (code: PolicyViolation['code'], extra: Partial<PolicyViolation> = {}): PolicyViolation => ({ code, message: `m ${code}`, ...extra });
  const cases: { name: string; violations: PolicyViolation[]; sent: Parameters<typeof policyProblem>[1]; fallback?: string; fields: string[] }[] = [
    { name: 'ok/a URI points at its index as sent', violations: [violation('uri_malformed', { field: 'uris', name: 'spiffe://a/b' })], sent: { uris: ['https://x', 'spiffe://a/b'] }, fields: ['uris/1'] },
    { name: 'ok/a DNS name is found whatever its case as sent', violations: [violation('name_outside_allowed_domains', { field: 'dnsNames', name: 'api.example.org' })], sent: { dnsNames: ['API.Example.org'] }, fields: ['dnsNames/0'] },
    { name: 'ok/an IPv6 address is found in another text form', violations: [violation('ip_outside_allowed_ranges', { field: 'ipAddresses', name: '2001:db8::1' })], sent: { ipAddresses: ['10.0.0.1', '2001:DB8:0::1'] }, fields: ['ipAddresses/1'] },
    { name: 'ok/a name only in the CSR names the field', violations: [violation('uri_malformed', { field: 'uris', name: 'spiffe://a/b' })], sent: {}, fields: ['uris'] },
    { name: 'ok/a request field', violations: [violation('validity_too_short'), violation('profile_not_allowed')], sent: {}, fields: ['validity', 'profile'] },
    { name: 'ok/the fallback for an agent CSR', violations: [violation('validity_too_long')], sent: {}, fallback: 'csr', fields: ['csr'] },
  ];
  it.each(cases)('$name', (tc) => {
    const body = policyProblem(tc.violations, tc.sent, tc.fallback).toBody();
    expect(body).toMatchObject({ status: 403, type: '/problems/policy-violation', code: tc.violations[0]!.code });
    expect((body.errors ?? []).map((error) => error.field)).toEqual(tc.fields);
    expect((body.errors ?? []).map((error) => error.code)).toEqual(tc.violations.map((v) => v.code));
  });
});

import { describe, expect, it } from 'vitest';
import { MAX_SANS } from '../../../core/names.js';
import type { LeafFields } from '../../../ca/leaf-template.js';
import { type LintCode, lintLeaf } from '../../../ca/lint.js';

const ISSUER = { notAfter: new Date('2026-01-01T00:00:00Z') };

/** A leaf that passes every check; each case changes what it is about. */
function leaf(overrides: Partial<LeafFields> = {}): LeafFields {
  return {
    serial: '7f0102030405060708090a0b0c0d0e0f',
    commonName: 'svc.example.com',
    dnsNames: ['svc.example.com', '*.svc.example.com'],
    ipAddresses: ['10.0.0.1', '2001:db8::1'],
    uris: [],
    profile: 'tls-server',
    subjectPublicKeySpki: new Uint8Array([0x30, 0x00]),
    subjectKeyAlgorithm: 'ECDSA-P256',
    notBefore: new Date('2025-01-01T00:00:00Z'),
    notAfter: new Date('2025-01-31T00:00:00Z'),
    ...overrides,
  };
}

const cases: { name: string; fields: Partial<LeafFields>; want: LintCode[]; message?: RegExp }[] = [
  { name: 'ok/a well-formed tls-server leaf', fields: {}, want: [] },
  { name: 'ok/empty subject with only an IP SAN', fields: { commonName: null, dnsNames: [], ipAddresses: ['10.0.0.1'] }, want: [] },
  { name: 'ok/mtls with a URI SAN', fields: { profile: 'mtls', uris: ['spiffe://example.com/ns/default/sa/svc'] }, want: [] },
  { name: 'ok/tls-client Ed25519', fields: { profile: 'tls-client', subjectKeyAlgorithm: 'Ed25519' }, want: [] },
  { name: 'ok/notAfter exactly the issuer notAfter', fields: { notAfter: ISSUER.notAfter }, want: [] },
  { name: 'ok/serial of exactly 64 bits', fields: { serial: '8000000000000000' }, want: [] },
  { name: 'ok/serial of 20 octets (top bit clear)', fields: { serial: `7f${'01'.repeat(19)}` }, want: [] },
  { name: 'ok/CN compared case-insensitively', fields: { commonName: 'SVC.example.com' }, want: [] },
  { name: `ok/exactly ${MAX_SANS} SANs`, fields: { commonName: null, ipAddresses: [], dnsNames: Array.from({ length: MAX_SANS }, (_, i) => `h${i}.example.com`) }, want: [] },

  { name: 'fail/notBefore equal to notAfter', fields: { notAfter: new Date('2025-01-01T00:00:00Z') }, want: ['validity_empty'], message: /is not before notAfter/ },
  { name: 'fail/notBefore after notAfter', fields: { notBefore: new Date('2025-02-01T00:00:00Z') }, want: ['validity_empty'] },
  { name: 'fail/notAfter past the issuer', fields: { notAfter: new Date('2026-01-01T00:00:01Z') }, want: ['validity_beyond_issuer'], message: /after the issuer's notAfter \(2026-01-01T00:00:00.000Z\)/ },
  { name: 'fail/serial not hex', fields: { serial: '0x1234' }, want: ['serial_invalid'], message: /not hexadecimal/ },
  { name: 'fail/serial empty', fields: { serial: '' }, want: ['serial_invalid'] },
  { name: 'fail/serial zero', fields: { serial: '0000000000000000' }, want: ['serial_invalid'], message: /positive/ },
  { name: 'fail/serial of 63 bits', fields: { serial: '7fffffffffffffff' }, want: ['serial_too_short'], message: /63 bits; at least 64/ },
  { name: 'fail/serial short once leading zeros are dropped', fields: { serial: '00000000000000000001' }, want: ['serial_too_short'] },
  { name: 'fail/serial of 20 octets with the top bit set (21 encoded)', fields: { serial: `80${'01'.repeat(19)}` }, want: ['serial_too_long'], message: /21 octets/ },
  { name: 'fail/no SAN at all', fields: { commonName: null, dnsNames: [], ipAddresses: [] }, want: ['no_subject_alt_name'] },
  {
    name: `fail/more than ${MAX_SANS} SANs`,
    fields: { commonName: null, ipAddresses: ['10.0.0.1'], dnsNames: Array.from({ length: MAX_SANS }, (_, i) => `h${i}.example.com`) },
    want: ['too_many_subject_alt_names'],
  },
  { name: 'fail/duplicate DNS name (case-insensitive)', fields: { dnsNames: ['svc.example.com', 'SVC.example.com'] }, want: ['duplicate_subject_alt_name'] },
  { name: 'fail/duplicate IP address in two spellings', fields: { ipAddresses: ['2001:db8::1', '2001:db8:0::1'] }, want: ['duplicate_subject_alt_name', 'ip_address_invalid'] },
  { name: 'fail/duplicate URI', fields: { profile: 'mtls', uris: ['spiffe://a/b', 'spiffe://a/b'] }, want: ['duplicate_subject_alt_name'] },
  { name: 'fail/CN not among the DNS names', fields: { commonName: 'other.example.com' }, want: ['common_name_not_in_dns_names'], message: /must also be one of the DNS names/ },
  {
    name: 'fail/CN longer than 64 characters',
    fields: { commonName: `${'a'.repeat(60)}.example.com`, dnsNames: [`${'a'.repeat(60)}.example.com`] },
    want: ['common_name_too_long'],
    message: /at most 64/,
  },
  { name: 'fail/non-ASCII DNS name', fields: { commonName: null, dnsNames: ['bücher.example.com'] }, want: ['dns_name_not_ascii'] },
  { name: 'fail/invalid IP address', fields: { ipAddresses: ['10.0.0.256'] }, want: ['ip_address_invalid'] },
  { name: 'fail/IP address not canonical', fields: { ipAddresses: ['2001:DB8::1'] }, want: ['ip_address_invalid'], message: /canonical form \(2001:db8::1\)/ },
  { name: 'fail/relative URI', fields: { profile: 'mtls', uris: ['/ns/default'] }, want: ['uri_invalid'] },
  { name: 'fail/URI with a space', fields: { profile: 'mtls', uris: ['spiffe://a/b c'] }, want: ['uri_invalid'] },
  { name: 'fail/URI on tls-server', fields: { uris: ['spiffe://example.com/svc'] }, want: ['uri_on_server_profile'] },
  { name: 'fail/Ed25519 on tls-server', fields: { subjectKeyAlgorithm: 'Ed25519' }, want: ['key_algorithm_not_allowed'], message: /does not accept Ed25519/ },
  { name: 'fail/Ed25519 on mtls', fields: { profile: 'mtls', subjectKeyAlgorithm: 'Ed25519' }, want: ['key_algorithm_not_allowed'] },
  {
    name: 'fail/several problems are all reported',
    fields: { serial: '01', notAfter: new Date('2027-01-01T00:00:00Z'), commonName: 'x.example.com', uris: ['spiffe://a/b'] },
    want: ['validity_beyond_issuer', 'serial_too_short', 'common_name_not_in_dns_names', 'uri_on_server_profile'],
  },
];

describe('lintLeaf', () => {
  it.each(cases)('$name', ({ fields, want, message }) => {
    const violations = lintLeaf(leaf(fields), ISSUER);
    expect(violations.map((v) => v.code)).toEqual(want);
    if (message) expect(violations[0]!.message).toMatch(message);
  });
});

/**
 * An intermediate limited to its owning zones: openssl accepts leaves inside them and refuses
 * leaves outside them (X509_V_ERR_PERMITTED_VIOLATION), so a misused intermediate cannot mint
 * certificates for names it does not own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIntermediateCa, createRootCa, ipConstraintBase, uriConstraintBase, type CaKeyAndCertificate } from '../../../ca/authority.js';
import { permittedSubtreesOf } from '../../../activities/successor-intermediate.js';
import { generateKeyPair } from '../../../ca/keys.js';
import { buildLeafCertificate } from '../../support/reference-leaf.js';
import { randomSerial } from '../../../ca/serial.js';
import { epochSeconds, makeTempDir, NOW, openssl, type TempDir } from './support.js';

let dir: TempDir;
let intermediate: CaKeyAndCertificate;

beforeAll(async () => {
  dir = await makeTempDir('certflow-name-constraints-');
  const common = { organization: 'Certflow Test', now: NOW, serial: randomSerial };
  const root = await createRootCa({ ...common, commonName: 'Constrained Test Root', keyAlgorithm: 'ECDSA-P256', validityDays: 3650 });
  intermediate = await createIntermediateCa(
    { certificate: root.certificate, signingKey: root.keys.privateKey, keyAlgorithm: root.keyAlgorithm },
    { ...common, commonName: 'Payments Issuing CA', keyAlgorithm: 'ECDSA-P256', validityDays: 365, permittedDnsZones: ['Payments.Example.com', 'pay.internal'] },
  );
  await dir.write('root.pem', root.certificate.toString('pem'));
  await dir.write('intermediate.pem', intermediate.certificate.toString('pem'));
});
afterAll(() => dir?.remove());

describe('intermediate name constraints', () => {
  it('ok/is a critical nameConstraints extension with the canonical permitted zones', async () => {
    const extension = intermediate.certificate.extensions.find((ext) => ext.type === '2.5.29.30');
    expect(extension?.critical).toBe(true);
    const text = await openssl(['x509', '-in', 'intermediate.pem', '-noout', '-ext', 'nameConstraints'], dir.path);
    expect(text.stdout).toMatch(/Permitted:\s+DNS:payments\.example\.com\s+DNS:pay\.internal/);
  });

  const cases = [
    { name: 'ok/inside the first zone', dnsName: 'api.payments.example.com', ok: true },
    { name: 'ok/the zone apex', dnsName: 'pay.internal', ok: true },
    { name: 'fail/outside every zone', dnsName: 'evil.example.org', ok: false },
    { name: 'fail/a sibling of the zone', dnsName: 'api.example.com', ok: false },
  ];
  it.each(cases)('$name', async ({ dnsName, ok }) => {
    const keys = await generateKeyPair('ECDSA-P256');
    const leaf = await buildLeafCertificate(
      { certificate: intermediate.certificate, signingKey: intermediate.keys.privateKey, keyAlgorithm: 'ECDSA-P256' },
      { serial: randomSerial(), commonName: null, dnsNames: [dnsName], ipAddresses: [], uris: [], profile: 'tls-server', subjectPublicKey: keys.publicKey, subjectKeyAlgorithm: 'ECDSA-P256', issuedAt: NOW, validitySeconds: 3600 },
    );
    await dir.write('leaf.pem', leaf.toString('pem'));
    const result = await openssl(
      ['verify', '-x509_strict', '-attime', epochSeconds(new Date(NOW.getTime() + 60_000)), '-CAfile', 'root.pem', '-untrusted', 'intermediate.pem', 'leaf.pem'],
      dir.path,
    );
    if (ok) expect(result.stdout).toContain('leaf.pem: OK');
    else expect(result.stdout + result.stderr).toMatch(/permitted subtree violation/);
  });
});

/**
 * URI and iPAddress subtrees: an intermediate limited to the SPIFFE trust domain "prod", the https
 * hosts under ".payments.example.com" and two IP ranges. openssl refuses leaves outside them.
 */
describe('intermediate URI and IP name constraints', () => {
  let uriIpIntermediate: CaKeyAndCertificate;
  beforeAll(async () => {
    const common = { organization: 'Certflow Test', now: NOW, serial: randomSerial };
    const root = await createRootCa({ ...common, commonName: 'Constrained Test Root 2', keyAlgorithm: 'ECDSA-P256', validityDays: 3650 });
    uriIpIntermediate = await createIntermediateCa(
      { certificate: root.certificate, signingKey: root.keys.privateKey, keyAlgorithm: root.keyAlgorithm },
      {
        ...common,
        commonName: 'Workload Issuing CA',
        keyAlgorithm: 'ECDSA-P256',
        validityDays: 365,
        permittedUriDomains: ['prod', '.payments.example.com'],
        permittedIpRanges: ['10.20.0.0/16', '2001:db8:aa::/48'],
      },
    );
    await dir.write('root2.pem', root.certificate.toString('pem'));
    await dir.write('intermediate2.pem', uriIpIntermediate.certificate.toString('pem'));
  });

  it('ok/carries permitted URI and IP subtrees (and no DNS subtree)', async () => {
    const text = await openssl(['x509', '-in', 'intermediate2.pem', '-noout', '-ext', 'nameConstraints'], dir.path);
    expect(text.stdout).toMatch(/Permitted:\s+URI:prod\s+URI:\.payments\.example\.com\s+IP:10\.20\.0\.0\/255\.255\.0\.0\s+IP:2001:DB8:AA:0:0:0:0:0\/FFFF:FFFF:FFFF:0:0:0:0:0/i);
    expect(text.stdout).not.toMatch(/DNS:/);
  });

  const cases = [
    { name: 'ok/SPIFFE ID in the trust domain', uris: ['spiffe://prod/ns/payments/sa/api'], ipAddresses: [], ok: true },
    { name: 'ok/https host under the domain', uris: ['https://api.payments.example.com/x'], ipAddresses: [], ok: true },
    { name: 'ok/IPv4 inside the range', uris: [], ipAddresses: ['10.20.3.4'], ok: true },
    { name: 'ok/IPv6 inside the range', uris: [], ipAddresses: ['2001:db8:aa::5'], ok: true },
    { name: 'fail/SPIFFE ID of another trust domain', uris: ['spiffe://staging/ns/payments/sa/api'], ipAddresses: [], ok: false },
    { name: 'fail/https host outside the domain', uris: ['https://x.example/'], ipAddresses: [], ok: false },
    { name: 'fail/IPv4 outside the range', uris: [], ipAddresses: ['10.21.0.1'], ok: false },
    { name: 'fail/IPv6 outside the range', uris: [], ipAddresses: ['2001:db8:ab::1'], ok: false },
  ];
  it.each(cases)('$name', async ({ uris, ipAddresses, ok }) => {
    const keys = await generateKeyPair('ECDSA-P256');
    const leaf = await buildLeafCertificate(
      { certificate: uriIpIntermediate.certificate, signingKey: uriIpIntermediate.keys.privateKey, keyAlgorithm: 'ECDSA-P256' },
      { serial: randomSerial(), commonName: null, dnsNames: [], ipAddresses, uris, profile: 'mtls', subjectPublicKey: keys.publicKey, subjectKeyAlgorithm: 'ECDSA-P256', issuedAt: NOW, validitySeconds: 3600 },
    );
    await dir.write('leaf2.pem', leaf.toString('pem'));
    const result = await openssl(
      ['verify', '-x509_strict', '-attime', epochSeconds(new Date(NOW.getTime() + 60_000)), '-CAfile', 'root2.pem', '-untrusted', 'intermediate2.pem', 'leaf2.pem'],
      dir.path,
    );
    if (ok) expect(result.stdout).toContain('leaf2.pem: OK');
    else expect(result.stdout + result.stderr).toMatch(/permitted subtree violation/);
  });

  it('ok/the successor of a compromised intermediate carries the same subtrees', () => {
    expect(permittedSubtreesOf(uriIpIntermediate.certificate)).toEqual({
      permittedDnsZones: [],
      permittedUriDomains: ['prod', '.payments.example.com'],
      permittedIpRanges: ['10.20.0.0/16', '2001:db8:aa::/48'],
    });
  });

  it('fail/a malformed URI constraint or CIDR is refused when the CA is built', () => {
    expect(() => uriConstraintBase('spiffe://prod')).toThrow(/not a URI name constraint/);
    expect(() => ipConstraintBase('10.20.0.1/16')).toThrow(/host bits/);
  });
});

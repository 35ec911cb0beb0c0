/**
 * An intermediate limited to its owning zones: openssl accepts leaves inside them and refuses
 * leaves outside them (X509_V_ERR_PERMITTED_VIOLATION), so a misused intermediate cannot mint
 * certificates for names it does not own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIntermediateCa, createRootCa, type CaKeyAndCertificate } from '../../../ca/authority.js';
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

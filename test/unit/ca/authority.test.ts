import { X509Certificate as NodeX509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorityKeyIdentifier, createIntermediateCa, createRootCa, earliest } from '../../../ca/authority.js';
import { randomSerial } from '../../../ca/serial.js';
import { x509 } from '../../../ca/x509.js';
import { buildHierarchy, epochSeconds, type Hierarchy, INTERMEDIATE_VALIDITY_DAYS, makeTempDir, NOW, openssl, ROOT_VALIDITY_DAYS, type TempDir } from './support.js';

const DAY_MS = 86_400_000;
const CA_USAGES = x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign;

let ca: Hierarchy;
let dir: TempDir;

beforeAll(async () => {
  ca = await buildHierarchy();
  dir = await makeTempDir('authority');
  await dir.write('root.pem', ca.root.certificate.toString('pem'));
  await dir.write('intermediate.pem', ca.intermediate.certificate.toString('pem'));
});
afterAll(() => dir?.remove());

describe('createRootCa / createIntermediateCa extensions', () => {
  const cases: { name: string; which: 'root' | 'intermediate'; pathLength: number | undefined; days: number; keyAlgorithm: string; usages: number }[] = [
    { name: 'ok/root', which: 'root', pathLength: undefined, days: ROOT_VALIDITY_DAYS, keyAlgorithm: 'ECDSA-P384', usages: CA_USAGES },
    // Intermediates also sign OCSP responses themselves, hence digitalSignature.
    { name: 'ok/intermediate', which: 'intermediate', pathLength: 0, days: INTERMEDIATE_VALIDITY_DAYS, keyAlgorithm: 'ECDSA-P256', usages: CA_USAGES | x509.KeyUsageFlags.digitalSignature },
  ];
  it.each(cases)('$name', async ({ which, pathLength, days, keyAlgorithm, usages }) => {
    const { certificate, keyAlgorithm: returned } = ca[which];
    expect(returned).toBe(keyAlgorithm);

    const basic = certificate.getExtension(x509.BasicConstraintsExtension);
    expect(basic?.ca).toBe(true);
    expect(basic?.critical).toBe(true);
    expect(basic?.pathLength).toBe(pathLength);

    const keyUsage = certificate.getExtension(x509.KeyUsagesExtension);
    expect(keyUsage?.critical).toBe(true);
    expect(keyUsage?.usages).toBe(usages);

    const ski = certificate.getExtension(x509.SubjectKeyIdentifierExtension);
    expect(ski?.keyId).toMatch(/^[0-9a-f]{40}$/);
    expect(certificate.getExtension(x509.ExtendedKeyUsageExtension)).toBeNull();

    expect(certificate.notBefore.getTime()).toBe(NOW.getTime());
    expect(certificate.notAfter.getTime()).toBe(NOW.getTime() + days * DAY_MS);
    expect(certificate.serialNumber).toMatch(/^[0-7][0-9a-f]{31}$/);
    expect(certificate.subjectName.getField('O')).toEqual(['Certflow Test']);
  });

  it('ok/root is self-signed and verifies with its own key', async () => {
    expect(ca.root.certificate.subject).toBe(ca.root.certificate.issuer);
    expect(await ca.root.certificate.isSelfSigned()).toBe(true);
  });

  it('ok/intermediate is issued by the root: issuer name, AKI = root SKI, signature', async () => {
    const { certificate } = ca.intermediate;
    expect(certificate.issuer).toBe(ca.root.certificate.subject);
    const aki = certificate.getExtension(x509.AuthorityKeyIdentifierExtension);
    expect(aki?.keyId).toBe(ca.root.certificate.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId);
    expect(aki?.critical).toBe(false);
    expect(aki?.certId).toBeUndefined();
    expect(await certificate.verify({ publicKey: ca.root.certificate.publicKey, signatureOnly: true })).toBe(true);
    const node = new NodeX509Certificate(certificate.toString('pem'));
    expect(node.checkIssued(new NodeX509Certificate(ca.root.certificate.toString('pem')))).toBe(true);
  });
});

describe('openssl verify of the intermediate against the root', () => {
  const cases: { name: string; at: Date; want: RegExp }[] = [
    { name: 'ok/at issuance', at: new Date(NOW.getTime() + 60_000), want: /intermediate\.pem: OK/ },
    { name: 'ok/just before it expires', at: new Date(NOW.getTime() + INTERMEDIATE_VALIDITY_DAYS * DAY_MS - 60_000), want: /intermediate\.pem: OK/ },
    { name: 'fail/after the intermediate expired', at: new Date(NOW.getTime() + INTERMEDIATE_VALIDITY_DAYS * DAY_MS + 60_000), want: /certificate has expired/ },
    { name: 'fail/before notBefore', at: new Date(NOW.getTime() - 60_000), want: /not yet valid/ },
  ];
  it.each(cases)('$name', async ({ at, want }) => {
    const result = await openssl(['verify', '-x509_strict', '-attime', epochSeconds(at), '-CAfile', 'root.pem', 'intermediate.pem'], dir.path);
    expect(`${result.stdout}${result.stderr}`).toMatch(want);
    expect(result.code === 0).toBe(want.source.includes('OK'));
  });

  it('ok/openssl sees pathlen:0 and a critical CA:TRUE', async () => {
    const text = await openssl(['x509', '-in', 'intermediate.pem', '-noout', '-ext', 'basicConstraints,keyUsage'], dir.path);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    expect(text.stdout).toMatch(/Key Usage: critical\s+Digital Signature, Certificate Sign, CRL Sign/);
  });

  it('fail/a foreign root does not verify the intermediate', async () => {
    const other = await buildHierarchy();
    await dir.write('other-root.pem', other.root.certificate.toString('pem'));
    const result = await openssl(['verify', '-x509_strict', '-attime', epochSeconds(NOW), '-CAfile', 'other-root.pem', 'intermediate.pem'], dir.path);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/unable to get local issuer certificate/);
  });
});

describe('createIntermediateCa validity', () => {
  it('ok/notAfter is clamped to the root notAfter', async () => {
    const root = await createRootCa({ commonName: 'Short Root', organization: 'T', keyAlgorithm: 'ECDSA-P256', validityDays: 10, now: NOW, serial: randomSerial });
    const intermediate = await createIntermediateCa(
      { certificate: root.certificate, signingKey: root.keys.privateKey, keyAlgorithm: root.keyAlgorithm },
      { commonName: 'Long Intermediate', organization: 'T', keyAlgorithm: 'ECDSA-P256', validityDays: 100, now: NOW, serial: randomSerial },
    );
    expect(intermediate.certificate.notAfter.getTime()).toBe(root.certificate.notAfter.getTime());
  });
});

describe('authorityKeyIdentifier', () => {
  it('fail/issuer without SKI', async () => {
    const keys = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
    const bare = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '01',
      name: 'CN=No SKI',
      notBefore: NOW,
      notAfter: new Date(NOW.getTime() + DAY_MS),
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      keys,
    });
    expect(() => authorityKeyIdentifier(bare)).toThrow(/has no subject key identifier/);
  });
});

describe('earliest', () => {
  const a = new Date('2025-01-01T00:00:00Z');
  const b = new Date('2026-01-01T00:00:00Z');
  it.each([
    { name: 'ok/first is earlier', x: a, y: b, want: a },
    { name: 'ok/second is earlier', x: b, y: a, want: a },
    { name: 'ok/equal', x: a, y: new Date(a), want: a },
  ])('$name', ({ x, y, want }) => {
    expect(earliest(x, y).getTime()).toBe(want.getTime());
  });
});

/**
 * ca/crl.ts: v2 CRLs read back by independent parsers — @peculiar/x509's X509Crl and the openssl
 * binary (`openssl crl` signature check, `openssl verify -crl_check`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyAlgorithm, RevocationReason } from '../../../core/types.js';
import { buildCrl, CRL_REASON_CODES, CrlError, DEFAULT_CRL_VALIDITY_SECONDS, type RevokedEntry } from '../../../ca/crl.js';
import { certificateFacts } from '../../../ca/certificate-facts.js';
import { derToPem } from '../../../ca/pem.js';
import type { Signer } from '../../../ca/signer.js';
import { x509 } from '../../../ca/x509.js';
import { REVOCATION_REASONS } from '../../../core/types.js';
import { buildHierarchy, epochSeconds, type Hierarchy, makeTempDir, NOW, openssl, type TempDir } from './support.js';
import { leafOf, rootOf, signerOf } from './revocation-support.js';

const THIS_UPDATE = new Date(NOW.getTime() + 2 * 3_600_000);
const REVOKED_AT = new Date(NOW.getTime() + 90 * 60_000);

let ca: Hierarchy;
let intermediateSigner: Signer;
let dir: TempDir;

beforeAll(async () => {
  ca = await buildHierarchy();
  intermediateSigner = await signerOf(ca.intermediate);
  dir = await makeTempDir('crl');
  await dir.write('root.pem', ca.root.certificate.toString('pem'));
  await dir.write('intermediate.pem', ca.intermediate.certificate.toString('pem'));
  await dir.write('chain.pem', `${ca.intermediate.certificate.toString('pem')}\n${ca.root.certificate.toString('pem')}\n`);
});

afterAll(async () => {
  await dir?.remove();
});

const intermediateIssuer = () => ({ certificate: ca.intermediate.certificate.toString('pem'), signer: intermediateSigner });

describe('buildCrl', () => {
  it('ok/fields: issuer, times, number, AKI and entries read back by @peculiar/x509', async () => {
    const entries: RevokedEntry[] = [
      { serial: '7f01', revokedAt: REVOKED_AT, reason: 'keyCompromise' },
      { serial: '00ff', revokedAt: REVOKED_AT, reason: 'superseded' }, // high bit set: INTEGER needs a 0x00 pad
      { serial: '01', revokedAt: REVOKED_AT, reason: 'unspecified' },
    ];
    const der = await buildCrl(intermediateIssuer(), { crlNumber: 42, thisUpdate: THIS_UPDATE, revoked: entries });
    const crl = new x509.X509Crl(new Uint8Array(der));

    expect(crl.version).toBe(1); // v2
    expect(Buffer.from(crl.issuerName.toArrayBuffer())).toEqual(certificateFacts(ca.intermediate.certificate.toString('pem')).subjectDer);
    expect(crl.thisUpdate).toEqual(THIS_UPDATE);
    expect(crl.nextUpdate).toEqual(new Date(THIS_UPDATE.getTime() + DEFAULT_CRL_VALIDITY_SECONDS * 1000));
    expect(await crl.verify({ publicKey: ca.intermediate.certificate })).toBe(true);
    expect(await crl.verify({ publicKey: ca.root.certificate })).toBe(false);

    // Entries are ordered by serial; `unspecified` carries no reasonCode extension.
    expect(crl.entries.map((entry) => [entry.serialNumber.toLowerCase().replace(/^00/, ''), entry.reason, entry.extensions.length])).toEqual([
      ['01', undefined, 0],
      ['ff', x509.X509CrlReason.superseded, 1],
      ['7f01', x509.X509CrlReason.keyCompromise, 1],
    ]);
    expect(crl.entries.every((entry) => entry.revocationDate.getTime() === REVOKED_AT.getTime())).toBe(true);

    const aki = crl.getExtension(x509.AuthorityKeyIdentifierExtension);
    const ski = ca.intermediate.certificate.getExtension(x509.SubjectKeyIdentifierExtension);
    expect(aki?.keyId).toBe(ski?.keyId);
    const crlNumber = crl.getExtension('2.5.29.20');
    expect(Buffer.from(crlNumber!.value).toString('hex')).toBe('02012a');
    expect(crl.extensions.every((extension) => !extension.critical)).toBe(true);
  });

  it('ok/empty: no revokedCertificates field at all, and openssl accepts it', async () => {
    const der = await buildCrl(intermediateIssuer(), { crlNumber: 1, thisUpdate: THIS_UPDATE, revoked: [] });
    expect(new x509.X509Crl(new Uint8Array(der)).entries).toHaveLength(0);
    const file = await dir.write('empty.crl', der);
    const checked = await openssl(['crl', '-inform', 'DER', '-in', file, '-CAfile', `${dir.path}/chain.pem`, '-noout']);
    expect(checked.stderr.trim()).toBe('verify OK');
  });

  it('ok/reason codes: every Certflow reason maps to its RFC 5280 code', async () => {
    const entries = REVOCATION_REASONS.map((reason, index) => ({ serial: (index + 1).toString(16).padStart(2, '0'), revokedAt: REVOKED_AT, reason }));
    const crl = new x509.X509Crl(new Uint8Array(await buildCrl(intermediateIssuer(), { crlNumber: 2, thisUpdate: THIS_UPDATE, revoked: entries })));
    const expected: Record<RevocationReason, number | undefined> = { ...CRL_REASON_CODES, unspecified: undefined };
    expect(crl.entries.map((entry) => entry.reason)).toEqual(REVOCATION_REASONS.map((reason) => expected[reason]));
    expect(CRL_REASON_CODES).toEqual({ unspecified: 0, keyCompromise: 1, affiliationChanged: 3, superseded: 4, cessationOfOperation: 5 });
  });

  it('ok/openssl: signature verifies, text shows number and reasons, and verify -crl_check rejects the revoked leaf with error 23', async () => {
    const revokedLeaf = await leafOf(ca, 'revoked.example.com');
    const goodLeaf = await leafOf(ca, 'good.example.com');
    const der = await buildCrl(intermediateIssuer(), {
      crlNumber: 7,
      thisUpdate: THIS_UPDATE,
      nextUpdate: new Date(THIS_UPDATE.getTime() + 3_600_000),
      revoked: [{ serial: revokedLeaf.serialNumber, revokedAt: REVOKED_AT, reason: 'keyCompromise' }],
    });
    const crlFile = await dir.write('intermediate.crl', der);
    const pemFile = await dir.write('intermediate.crl.pem', derToPem(der, 'X509 CRL'));
    await dir.write('revoked.pem', revokedLeaf.toString('pem'));
    await dir.write('good.pem', goodLeaf.toString('pem'));

    const checked = await openssl(['crl', '-inform', 'DER', '-in', crlFile, '-CAfile', `${dir.path}/chain.pem`, '-noout']);
    expect(checked.stderr.trim()).toBe('verify OK');
    const text = await openssl(['crl', '-inform', 'DER', '-in', crlFile, '-noout', '-text']);
    expect(text.stdout).toContain('Version 2 (0x1)');
    expect(text.stdout).toMatch(/X509v3 CRL Number:\s+7/);
    expect(text.stdout).toContain('X509v3 Authority Key Identifier');
    expect(text.stdout).toContain(`Serial Number: ${revokedLeaf.serialNumber.toUpperCase()}`);
    expect(text.stdout).toMatch(/X509v3 CRL Reason Code:\s+Key Compromise/);
    expect(text.stdout).toContain('Last Update: Jan  1 02:00:00 2025 GMT');
    expect(text.stdout).toContain('Next Update: Jan  1 03:00:00 2025 GMT');

    const at = epochSeconds(new Date(THIS_UPDATE.getTime() + 60_000));
    const verify = (leaf: string) =>
      openssl(['verify', '-attime', at, '-crl_check', '-CRLfile', pemFile, '-CAfile', `${dir.path}/root.pem`, '-untrusted', `${dir.path}/intermediate.pem`, `${dir.path}/${leaf}`]);
    const good = await verify('good.pem');
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).toContain(': OK');
    const revoked = await verify('revoked.pem');
    expect(revoked.code).not.toBe(0);
    expect(revoked.stdout + revoked.stderr).toMatch(/error 23 at 0 depth lookup: certificate revoked/);

    // After nextUpdate the CRL is stale: openssl refuses to rely on it (error 12).
    const late = await openssl(['verify', '-attime', epochSeconds(new Date(THIS_UPDATE.getTime() + 2 * 3_600_000)), '-crl_check', '-CRLfile', pemFile, '-CAfile', `${dir.path}/root.pem`, '-untrusted', `${dir.path}/intermediate.pem`, `${dir.path}/good.pem`]);
    expect(late.stdout + late.stderr).toMatch(/error 12 at 0 depth lookup: CRL has expired/);
  });

  it('ok/golden: equal inputs give byte-identical CRLs with a deterministic signer (Ed25519)', async () => {
    const root = await rootOf('Ed25519');
    const issuer = { certificate: root.certificate.toString('pem'), signer: await signerOf(root) };
    const options = { crlNumber: 3n, thisUpdate: THIS_UPDATE, revoked: [{ serial: 'abcdef', revokedAt: REVOKED_AT, reason: 'cessationOfOperation' as const }] };
    const first = await buildCrl(issuer, options);
    expect(await buildCrl(issuer, { ...options, revoked: [...options.revoked] })).toEqual(first);
    expect(await new x509.X509Crl(new Uint8Array(first)).verify({ publicKey: root.certificate })).toBe(true);
  });

  it.each<KeyAlgorithm>(['ECDSA-P384', 'RSA-2048', 'Ed25519'])('ok/algorithm %s: openssl verifies the signature', async (keyAlgorithm) => {
    const root = await rootOf(keyAlgorithm);
    const der = await buildCrl({ certificate: root.certificate.toString('pem'), signer: await signerOf(root) }, {
      crlNumber: 2n ** 64n, // larger than a JS safe integer
      thisUpdate: THIS_UPDATE,
      revoked: [{ serial: '0102030405060708', revokedAt: REVOKED_AT, reason: 'affiliationChanged' }],
    });
    const rootFile = await dir.write(`root-${keyAlgorithm}.pem`, root.certificate.toString('pem'));
    const crlFile = await dir.write(`root-${keyAlgorithm}.crl`, der);
    const checked = await openssl(['crl', '-inform', 'DER', '-in', crlFile, '-CAfile', rootFile, '-noout', '-crlnumber']);
    expect(checked.stderr.trim()).toBe('verify OK');
    expect(checked.stdout.trim()).toBe('crlNumber=0x010000000000000000');
  });

  it('ok/dates after 2049 are GeneralizedTime', async () => {
    const late = new Date('2050-06-01T00:00:00Z');
    const crl = new x509.X509Crl(new Uint8Array(await buildCrl(intermediateIssuer(), { crlNumber: 1, thisUpdate: late, revoked: [{ serial: '05', revokedAt: late, reason: 'superseded' }] })));
    expect(crl.thisUpdate).toEqual(late);
    expect(crl.entries[0]!.revocationDate).toEqual(late);
  });

  it.each([
    ['fail/signer key is not the issuer key', async () => buildCrl({ certificate: ca.intermediate.certificate.toString('pem'), signer: await signerOf(ca.root) }, { crlNumber: 1, thisUpdate: THIS_UPDATE, revoked: [] })],
    ['fail/nextUpdate not after thisUpdate', async () => buildCrl(intermediateIssuer(), { crlNumber: 1, thisUpdate: THIS_UPDATE, nextUpdate: THIS_UPDATE, revoked: [] })],
    ['fail/negative CRL number', async () => buildCrl(intermediateIssuer(), { crlNumber: -1, thisUpdate: THIS_UPDATE, revoked: [] })],
    ['fail/CRL number over 20 octets', async () => buildCrl(intermediateIssuer(), { crlNumber: 2n ** 160n, thisUpdate: THIS_UPDATE, revoked: [] })],
  ])('%s', async (_name, build) => {
    await expect(build()).rejects.toBeInstanceOf(CrlError);
  });

  it('fail/non-hex serial', async () => {
    await expect(buildCrl(intermediateIssuer(), { crlNumber: 1, thisUpdate: THIS_UPDATE, revoked: [{ serial: 'xyz', revokedAt: REVOKED_AT, reason: 'superseded' }] })).rejects.toThrow(
      /not a hexadecimal serial/,
    );
  });
});

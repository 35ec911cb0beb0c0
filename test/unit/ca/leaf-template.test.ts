/**
 * The fast template builder against (a) @peculiar/x509 parsing of every field, (b) the real
 * openssl verifying the chain strictly, (c) the @peculiar/x509 generator fed the profile: the same
 * TBSCertificate byte for byte, and the extensions of test/support/reference-leaf.ts in the same order; plus golden
 * vectors from committed fixtures (regenerate the expected leaves with UPDATE_GOLDEN=1).
 */
import { createPrivateKey, createPublicKey, KeyObject, verify as nodeVerify } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROFILES, type KeyAlgorithm, type Profile } from '../../../core/types.js';
import { createIntermediateCa } from '../../../ca/authority.js';
import { ALGORITHM_SPECS, generateKeyPair } from '../../../ca/keys.js';
import { canonicalizeIp } from '../../../core/ip.js';
import { buildLeafCertificate } from '../../support/reference-leaf.js';
import { type LeafFields, LeafTemplates } from '../../../ca/leaf-template.js';
import { children, decodeOid, parseDer } from '../../../ca/der-reader.js';
import { CERTFLOW_POLICY_OID, issuerUrls, leafKeyUsage, PROFILE_KEY_ALGORITHMS } from '../../../ca/profiles.js';
import { randomSerial } from '../../../ca/serial.js';
import { softwareSigner } from '../../../ca/signer.js';
import { x509 } from '../../../ca/x509.js';
import { buildHierarchy, epochSeconds, type Hierarchy, makeTempDir, NOW, openssl, type TempDir } from './support.js';

const DAY_MS = 86_400_000;
const NOT_BEFORE = new Date(NOW.getTime() + 3_600_000);
const NOT_AFTER = new Date(NOT_BEFORE.getTime() + 30 * DAY_MS);
const URLS = issuerUrls('http://ca.example.com/', 'iss_test');
const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
const { serverAuth, clientAuth } = x509.ExtendedKeyUsage;
const EKUS: Record<Profile, string[]> = { 'tls-server': [serverAuth], 'tls-client': [clientAuth], mtls: [serverAuth, clientAuth] };
const PURPOSES: Record<Profile, ('sslserver' | 'sslclient')[]> = { 'tls-server': ['sslserver'], 'tls-client': ['sslclient'], mtls: ['sslserver', 'sslclient'] };
/** Extension OIDs in the order profiles.ts prescribes. */
const EXTENSION_ORDER = ['2.5.29.19', '2.5.29.15', '2.5.29.37', '2.5.29.17', '2.5.29.14', '2.5.29.35', '2.5.29.31', '1.3.6.1.5.5.7.1.1', '2.5.29.32'];
const SKI_OID = '2.5.29.14';

interface SubjectKeys {
  keys: CryptoKeyPair;
  spki: Uint8Array;
}

let ca: Hierarchy;
let templates: LeafTemplates;
let dir: TempDir;
const subjects = new Map<KeyAlgorithm, SubjectKeys>();

async function subjectKeys(keyAlgorithm: KeyAlgorithm): Promise<SubjectKeys> {
  const keys = await generateKeyPair(keyAlgorithm);
  return { keys, spki: new Uint8Array(await crypto.subtle.exportKey('spki', keys.publicKey)) };
}

function issuerTemplates(certificate: x509.X509Certificate, privateKey: CryptoKey, keyAlgorithm: KeyAlgorithm, id = 'iss_test'): LeafTemplates {
  return new LeafTemplates({
    id,
    certificateDer: new Uint8Array(certificate.rawData),
    signer: softwareSigner(KeyObject.from(privateKey), keyAlgorithm),
    urls: issuerUrls('http://ca.example.com/', id),
  });
}

beforeAll(async () => {
  ca = await buildHierarchy();
  templates = issuerTemplates(ca.intermediate.certificate, ca.intermediate.keys.privateKey, 'ECDSA-P256');
  dir = await makeTempDir('leaf-template');
  await dir.write('root.pem', ca.root.certificate.toString('pem'));
  await dir.write('intermediate.pem', ca.intermediate.certificate.toString('pem'));
  const algorithms = ['ECDSA-P256', 'ECDSA-P384', 'RSA-2048', 'RSA-3072', 'RSA-4096', 'Ed25519'] as const;
  const generated = await Promise.all(algorithms.map(subjectKeys));
  algorithms.forEach((algorithm, index) => subjects.set(algorithm, generated[index]!));
}, 120_000);
afterAll(() => dir?.remove());

interface LeafCase {
  name: string;
  profile: Profile;
  keyAlgorithm: KeyAlgorithm;
  commonName: string | null;
  dnsNames: string[];
  ipAddresses: string[];
  uris: string[];
}

/** Every profile × every leaf key algorithm it allows; every other case has an empty subject. */
const leafCases: LeafCase[] = PROFILES.flatMap((profile) =>
  PROFILE_KEY_ALGORITHMS[profile].map((keyAlgorithm, index) => ({
    name: `ok/${profile}/${keyAlgorithm}`,
    profile,
    keyAlgorithm,
    commonName: index % 2 === 0 ? 'svc.example.com' : null,
    dnsNames: ['svc.example.com', '*.svc.example.com'],
    ipAddresses: profile === 'tls-client' ? [] : ['10.0.0.1', '2001:db8::1'],
    uris: profile === 'tls-server' ? [] : ['spiffe://example.com/ns/default/sa/svc'],
  })),
);

function fieldsFor(tc: LeafCase, overrides: Partial<LeafFields> = {}): LeafFields {
  return {
    serial: randomSerial(),
    commonName: tc.commonName,
    dnsNames: tc.dnsNames,
    ipAddresses: tc.ipAddresses,
    uris: tc.uris,
    profile: tc.profile,
    subjectPublicKeySpki: subjects.get(tc.keyAlgorithm)!.spki,
    subjectKeyAlgorithm: tc.keyAlgorithm,
    notBefore: NOT_BEFORE,
    notAfter: NOT_AFTER,
    ...overrides,
  };
}

function verifyArgs(file: string, purpose: 'sslserver' | 'sslclient', hostname?: string, intermediate = 'intermediate.pem'): string[] {
  return [
    'verify',
    '-x509_strict',
    '-purpose',
    purpose,
    ...(hostname ? ['-verify_hostname', hostname] : []),
    '-attime',
    epochSeconds(new Date(NOT_BEFORE.getTime() + DAY_MS)),
    '-CAfile',
    'root.pem',
    '-untrusted',
    intermediate,
    file,
  ];
}

/** The TBSCertificate bytes of a DER certificate. */
function tbsOf(der: Uint8Array): Buffer {
  return Buffer.from(children(parseDer(der))[0]!.raw);
}

function extensionList(certificate: x509.X509Certificate): { oid: string; critical: boolean }[] {
  return certificate.extensions.map((extension) => ({ oid: extension.type, critical: extension.critical }));
}

/** The profile built with the @peculiar/x509 generator (slow, but an independent encoder). */
async function peculiarProfileLeaf(fields: LeafFields, keys: CryptoKeyPair): Promise<x509.X509Certificate> {
  const subjectIsEmpty = fields.commonName === null;
  const keyEncipherment = leafKeyUsage(fields.subjectKeyAlgorithm, fields.profile).keyEncipherment;
  const ski = ca.intermediate.certificate.getExtension(x509.SubjectKeyIdentifierExtension)!;
  return x509.X509CertificateGenerator.create({
    serialNumber: fields.serial,
    subject: subjectIsEmpty ? [] : [{ CN: [fields.commonName!] }],
    issuer: ca.intermediate.certificate.subjectName,
    notBefore: fields.notBefore,
    notAfter: fields.notAfter,
    signingAlgorithm: ALGORITHM_SPECS['ECDSA-P256'].signing,
    publicKey: keys.publicKey,
    signingKey: ca.intermediate.keys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | (keyEncipherment ? x509.KeyUsageFlags.keyEncipherment : 0), true),
      new x509.ExtendedKeyUsageExtension(EKUS[fields.profile], false),
      new x509.SubjectAlternativeNameExtension(
        [
          ...fields.dnsNames.map((value) => ({ type: 'dns' as const, value })),
          ...fields.ipAddresses.map((value) => ({ type: 'ip' as const, value })),
          ...fields.uris.map((value) => ({ type: 'url' as const, value })),
        ],
        subjectIsEmpty,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      new x509.AuthorityKeyIdentifierExtension(ski.keyId, false),
      new x509.CRLDistributionPointsExtension([URLS.crl], false),
      new x509.AuthorityInfoAccessExtension({ ocsp: [URLS.ocsp], caIssuers: [URLS.caIssuers] }, false),
      new x509.CertificatePolicyExtension([CERTFLOW_POLICY_OID], false),
    ],
  });
}

describe('LeafTemplates.build', () => {
  it.each(leafCases)('$name', async (tc) => {
    const fields = fieldsFor(tc);
    const der = await templates.build(fields);
    const leaf = new x509.X509Certificate(new Uint8Array(der));

    // (a) every field and extension, as @peculiar/x509 reads them
    expect(leaf.serialNumber).toBe(fields.serial);
    expect(leaf.issuer).toBe(ca.intermediate.certificate.subject);
    expect(leaf.subject).toBe(tc.commonName === null ? '' : `CN=${tc.commonName}`);
    expect(leaf.notBefore).toEqual(NOT_BEFORE);
    expect(leaf.notAfter).toEqual(NOT_AFTER);
    expect(Buffer.from(leaf.publicKey.rawData)).toEqual(Buffer.from(fields.subjectPublicKeySpki));
    expect(leaf.signatureAlgorithm).toMatchObject({ name: 'ECDSA', hash: { name: 'SHA-256' } });
    expect(await leaf.verify({ publicKey: ca.intermediate.keys.publicKey, signatureOnly: true })).toBe(true);

    expect(extensionList(leaf)).toEqual(
      EXTENSION_ORDER.map((oid) => ({ oid, critical: ['2.5.29.19', '2.5.29.15'].includes(oid) || (oid === '2.5.29.17' && tc.commonName === null) })),
    );
    expect(leaf.getExtension(x509.BasicConstraintsExtension)).toMatchObject({ ca: false, pathLength: undefined });
    const wantUsage = leafKeyUsage(tc.keyAlgorithm, tc.profile).keyEncipherment
      ? x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment
      : x509.KeyUsageFlags.digitalSignature;
    expect(leaf.getExtension(x509.KeyUsagesExtension)?.usages).toBe(wantUsage);
    expect(leaf.getExtension(x509.ExtendedKeyUsageExtension)?.usages).toEqual(EKUS[tc.profile]);
    const names = leaf.getExtension(x509.SubjectAlternativeNameExtension)!.names.toJSON();
    expect(names.filter((n) => n.type === 'dns').map((n) => n.value)).toEqual(tc.dnsNames);
    expect(names.filter((n) => n.type === 'ip').map((n) => canonicalizeIp(n.value))).toEqual(tc.ipAddresses);
    expect(names.filter((n) => n.type === 'url').map((n) => n.value)).toEqual(tc.uris);
    expect(leaf.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId).toBe(
      ca.intermediate.certificate.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId,
    );
    expect(leaf.getExtension(x509.CRLDistributionPointsExtension)?.distributionPoints[0]?.distributionPoint?.fullName?.[0]?.uniformResourceIdentifier).toBe(
      URLS.crl,
    );
    const aia = leaf.getExtension(x509.AuthorityInfoAccessExtension)!;
    expect(aia.ocsp.map((name) => name.value)).toEqual([URLS.ocsp]);
    expect(aia.caIssuers.map((name) => name.value)).toEqual([URLS.caIssuers]);
    // @peculiar/x509 misprints 2.25 UUID OIDs, so the policy OID is decoded here
    const policies = children(parseDer(new Uint8Array(leaf.getExtension(x509.CertificatePolicyExtension)!.value)));
    expect(policies.map((policy) => decodeOid(children(policy)[0]!))).toEqual([CERTFLOW_POLICY_OID]);

    // (b) the real openssl accepts the chain for every purpose of the profile, with hostname checks
    const file = `${tc.name.replaceAll('/', '_')}.pem`;
    await dir.write(file, leaf.toString('pem'));
    for (const purpose of PURPOSES[tc.profile]) {
      const result = await openssl(verifyArgs(file, purpose, purpose === 'sslserver' ? 'api.svc.example.com' : undefined), dir.path);
      expect(result.stderr).toBe('');
      expect(result.stdout.trim()).toBe(`${file}: OK`);
    }

    // (c) an independent encoder given the same profile produces the same TBSCertificate, byte for byte
    const peculiar = await peculiarProfileLeaf(fields, subjects.get(tc.keyAlgorithm)!.keys);
    expect(tbsOf(der).toString('hex')).toBe(tbsOf(new Uint8Array(peculiar.rawData)).toString('hex'));
  });

  it('ok/the extensions of the reference builder (test/support/reference-leaf.ts) appear in the same order with the same criticality', async () => {
    // test/support/reference-leaf.ts predates profiles.ts: it lacks CRL DP, AIA and certificatePolicies, so only the
    // extensions both builders write are compared.
    for (const tc of [leafCases[0]!, leafCases[1]!]) {
      const ours = extensionList(new x509.X509Certificate(new Uint8Array(await templates.build(fieldsFor(tc)))));
      const reference = extensionList(
        await buildLeafCertificate(ca.issuer, {
          ...fieldsFor(tc),
          subjectPublicKey: subjects.get(tc.keyAlgorithm)!.keys.publicKey,
          issuedAt: NOT_BEFORE,
          validitySeconds: 30 * 86_400,
        }),
      );
      const shared = (list: { oid: string }[], other: { oid: string }[]) => list.filter((e) => other.some((o) => o.oid === e.oid));
      expect(shared(ours, reference)).toEqual(shared(reference, ours));
      expect(shared(ours, reference).map((e) => e.oid)).toEqual(['2.5.29.19', '2.5.29.15', '2.5.29.37', '2.5.29.17', SKI_OID, '2.5.29.35']);
    }
  });

  const issuerAlgorithms: { keyAlgorithm: KeyAlgorithm; signatureOid: string }[] = [
    { keyAlgorithm: 'ECDSA-P384', signatureOid: '1.2.840.10045.4.3.3' },
    { keyAlgorithm: 'RSA-2048', signatureOid: '1.2.840.113549.1.1.11' },
    { keyAlgorithm: 'Ed25519', signatureOid: '1.3.101.112' },
  ];
  it.each(issuerAlgorithms)('ok/$keyAlgorithm issuer: signature algorithm and openssl chain', async ({ keyAlgorithm, signatureOid }) => {
    const intermediate = await createIntermediateCa(
      { certificate: ca.root.certificate, signingKey: ca.root.keys.privateKey, keyAlgorithm: ca.root.keyAlgorithm },
      { commonName: `Issuing ${keyAlgorithm}`, organization: 'Certflow Test', keyAlgorithm, validityDays: 365, now: NOW, serial: randomSerial },
    );
    const issuer = issuerTemplates(intermediate.certificate, intermediate.keys.privateKey, keyAlgorithm, `iss_${keyAlgorithm}`);
    const der = await issuer.build(fieldsFor(leafCases[0]!));
    const [tbs, signatureAlgorithm] = children(parseDer(der));
    // Certificate.signatureAlgorithm equals TBSCertificate.signature (RFC 5280 §4.1.1.2)
    expect(signatureAlgorithm!.raw).toEqual(children(tbs!)[2]!.raw);
    expect(decodeOid(children(signatureAlgorithm!)[0]!)).toBe(signatureOid);
    const leaf = new x509.X509Certificate(new Uint8Array(der));
    expect(leaf.issuer).toBe(intermediate.certificate.subject);
    expect(await leaf.verify({ publicKey: intermediate.keys.publicKey, signatureOnly: true })).toBe(true);

    const file = `issuer-${keyAlgorithm}.pem`;
    await dir.write(`intermediate-${keyAlgorithm}.pem`, intermediate.certificate.toString('pem'));
    await dir.write(file, leaf.toString('pem'));
    const result = await openssl(verifyArgs(file, 'sslserver', 'svc.example.com', `intermediate-${keyAlgorithm}.pem`), dir.path);
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe(`${file}: OK`);
  });
});

describe('LeafTemplates encoding details', () => {
  const base = (): LeafCase => leafCases[0]!;
  const tbsFields = (der: Buffer) => children(parseDer(der));

  it('ok/serial with the top bit set gets a 0x00 octet; leading zero octets are dropped', () => {
    const high = tbsFields(templates.buildTbs(fieldsFor(base(), { serial: 'ff0102030405060708090a0b0c0d0e0f' })));
    expect(high[1]!.raw.toString('hex')).toBe('021100ff0102030405060708090a0b0c0d0e0f');
    const padded = tbsFields(templates.buildTbs(fieldsFor(base(), { serial: '00007f0102030405060708' })));
    expect(padded[1]!.raw.toString('hex')).toBe('02097f0102030405060708');
  });

  const times: { name: string; date: Date; want: string }[] = [
    { name: 'ok/2049 is UTCTime', date: new Date('2049-12-31T23:59:59Z'), want: '170d3439313233313233353935395a' },
    { name: 'ok/2050 is GeneralizedTime', date: new Date('2050-01-01T00:00:00Z'), want: '180f32303530303130313030303030305a' },
    { name: 'ok/milliseconds are dropped', date: new Date('2025-06-07T08:09:10.999Z'), want: '170d3235303630373038303931305a' },
  ];
  it.each(times)('$name', ({ date, want }) => {
    const validity = tbsFields(templates.buildTbs(fieldsFor(base(), { notAfter: date })))[4]!;
    expect(children(validity)[1]!.raw.toString('hex')).toBe(want);
  });

  const commonNames: { name: string; commonName: string; tag: number }[] = [
    { name: 'ok/a plain DNS name CN is a PrintableString', commonName: 'svc.example.com', tag: 0x13 },
    { name: 'ok/a wildcard CN is a UTF8String (no "*" in PrintableString)', commonName: '*.svc.example.com', tag: 0x0c },
  ];
  it.each(commonNames)('$name', ({ commonName, tag }) => {
    const subject = tbsFields(templates.buildTbs(fieldsFor(base(), { commonName, dnsNames: [commonName] })))[5]!;
    const value = children(children(children(subject)[0]!)[0]!)[1]!;
    expect(value.tag).toBe(tag);
    expect(value.content.toString('utf8')).toBe(commonName);
  });

  it('ok/an empty subject is an empty SEQUENCE', () => {
    const subject = tbsFields(templates.buildTbs(fieldsFor(base(), { commonName: null })))[5]!;
    expect(subject.raw.toString('hex')).toBe('3000');
  });

  it('ok/long SAN lists use multi-octet lengths', async () => {
    const dnsNames = Array.from({ length: 100 }, (_, i) => `host-${i}.a-rather-long-subdomain-label.svc.example.com`);
    const leaf = new x509.X509Certificate(new Uint8Array(await templates.build(fieldsFor(base(), { dnsNames, commonName: null }))));
    const names = leaf.getExtension(x509.SubjectAlternativeNameExtension)!.names.toJSON();
    expect(names.filter((n) => n.type === 'dns').map((n) => n.value)).toEqual(dnsNames);
  });

  const refused: { name: string; fields: Partial<LeafFields>; error: RegExp }[] = [
    { name: 'fail/non-hex serial', fields: { serial: 'xyz' }, error: /not hexadecimal/ },
    { name: 'fail/zero serial', fields: { serial: '0000' }, error: /serial is zero/ },
    { name: 'fail/non-ASCII DNS name', fields: { dnsNames: ['bücher.example.com'] }, error: /not ASCII/ },
    { name: 'fail/invalid IP address', fields: { ipAddresses: ['10.0.0.256'] }, error: /not a valid IP address/ },
    { name: 'fail/IP address not in canonical form', fields: { ipAddresses: ['2001:DB8::1'] }, error: /not in canonical form/ },
  ];
  it.each(refused)('$name', ({ fields, error }) => {
    expect(() => templates.buildTbs(fieldsFor(base(), fields))).toThrow(error);
  });

  it('fail/a signer that does not hold the key of the issuer certificate', async () => {
    const other = await generateKeyPair('ECDSA-P256');
    expect(() => issuerTemplates(ca.intermediate.certificate, other.privateKey, 'ECDSA-P256')).toThrow(/does not hold the key of its certificate/);
  });

  it('fail/an issuer certificate that is not a CA', async () => {
    const leaf = await templates.build(fieldsFor(base()));
    const signer = softwareSigner(KeyObject.from(subjects.get('ECDSA-P256')!.keys.privateKey), 'ECDSA-P256');
    expect(() => new LeafTemplates({ id: 'iss_leaf', certificateDer: leaf, signer, urls: URLS })).toThrow(/is not a CA certificate/);
  });
});

/**
 * Golden vectors: fixed issuer keys and certificates (test/unit/fixtures/golden-issuer-*, made once
 * with ca/authority.ts), a fixed subject key, serial and validity. Ed25519 signatures are
 * deterministic, so that leaf is compared whole; ECDSA ones are not, so that one by its TBS.
 */
describe('golden vectors', () => {
  const fixture = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8');
  const golden: { name: string; issuer: 'ed25519' | 'p256'; keyAlgorithm: KeyAlgorithm; compare: 'certificate' | 'tbs'; fields: Omit<LeafFields, 'subjectPublicKeySpki'> }[] = [
    {
      name: 'ok/Ed25519 issuer, tls-server, CN + DNS names: the whole certificate',
      issuer: 'ed25519',
      keyAlgorithm: 'Ed25519',
      compare: 'certificate',
      fields: {
        serial: '5a0102030405060708090a0b0c0d0e0f',
        commonName: 'svc.example.com',
        dnsNames: ['svc.example.com', 'www.svc.example.com'],
        ipAddresses: [],
        uris: [],
        profile: 'tls-server',
        subjectKeyAlgorithm: 'ECDSA-P256',
        notBefore: new Date('2025-02-01T00:00:00Z'),
        notAfter: new Date('2025-03-03T00:00:00Z'),
      },
    },
    {
      name: 'ok/P-256 issuer, mtls, empty subject, IP and URI SANs: the TBSCertificate',
      issuer: 'p256',
      keyAlgorithm: 'ECDSA-P256',
      compare: 'tbs',
      fields: {
        serial: '6b0102030405060708090a0b0c0d0e0f',
        commonName: null,
        dnsNames: ['svc.example.com'],
        ipAddresses: ['10.0.0.1', '2001:db8::1'],
        uris: ['spiffe://example.com/ns/default/sa/svc'],
        profile: 'mtls',
        subjectKeyAlgorithm: 'ECDSA-P256',
        notBefore: new Date('2025-02-01T00:00:00Z'),
        notAfter: new Date('2050-02-01T00:00:00Z'),
      },
    },
  ];
  it.each(golden)('$name', async ({ issuer, keyAlgorithm, compare, fields }) => {
    const certificatePem = fixture(`golden-issuer-${issuer}.crt.pem`);
    const issuerCertificate = new x509.X509Certificate(certificatePem);
    const signer = softwareSigner(createPrivateKey(fixture(`golden-issuer-${issuer}.key.pem`)), keyAlgorithm);
    const goldenTemplates = new LeafTemplates({
      id: `iss_golden_${issuer}`,
      certificateDer: new Uint8Array(issuerCertificate.rawData),
      signer,
      urls: issuerUrls('http://ca.example.com', `iss_golden_${issuer}`),
    });
    const spki = createPublicKey(fixture('golden-subject-p256.pub.pem')).export({ type: 'spki', format: 'der' });
    const der = await goldenTemplates.build({ ...fields, notAfter: fields.notAfter > issuerCertificate.notAfter ? issuerCertificate.notAfter : fields.notAfter, subjectPublicKeySpki: spki });
    const expectedFile = join(FIXTURES, `golden-leaf-${issuer}-issuer.crt.pem`);
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(expectedFile, new x509.X509Certificate(new Uint8Array(der)).toString('pem') + '\n');
    const expected = Buffer.from(new x509.X509Certificate(readFileSync(expectedFile, 'utf8')).rawData);

    if (compare === 'certificate') expect(Buffer.from(der).toString('hex')).toBe(expected.toString('hex'));
    else expect(tbsOf(der).toString('hex')).toBe(tbsOf(expected).toString('hex'));
    // the expected certificate is itself valid: its signature verifies with the issuer key
    const [tbs, , signature] = children(parseDer(expected));
    const hash = keyAlgorithm === 'Ed25519' ? null : 'sha256';
    const issuerKey = createPublicKey(certificatePem);
    expect(nodeVerify(hash, tbs!.raw, { key: issuerKey, dsaEncoding: 'der' }, signature!.content.subarray(1))).toBe(true);
  });
});

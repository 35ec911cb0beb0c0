import { X509Certificate as NodeX509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyAlgorithm, Profile } from '../../../core/types.js';
import { generateKeyPair } from '../../../ca/keys.js';
import { MAX_BACKDATE_SECONDS } from '../../../ca/issuance.js';
import { buildLeafCertificate, sha256Fingerprint, type LeafRequest } from '../../support/reference-leaf.js';
import { randomSerial } from '../../../ca/serial.js';
import { x509 } from '../../../ca/x509.js';
import { buildHierarchy, epochSeconds, type Hierarchy, INTERMEDIATE_VALIDITY_DAYS, makeTempDir, NOW, openssl, type TempDir } from './support.js';

const DAY_MS = 86_400_000;
const ISSUED_AT = new Date(NOW.getTime() + 3_600_000);
const { serverAuth, clientAuth } = x509.ExtendedKeyUsage;
const PURPOSES: Record<Profile, ('sslserver' | 'sslclient')[]> = {
  'tls-server': ['sslserver'],
  'tls-client': ['sslclient'],
  mtls: ['sslserver', 'sslclient'],
};
const EKUS: Record<Profile, string[]> = {
  'tls-server': [serverAuth],
  'tls-client': [clientAuth],
  mtls: [serverAuth, clientAuth],
};

interface LeafCase {
  name: string;
  profile: Profile;
  keyAlgorithm: KeyAlgorithm;
  commonName: string | null;
  dnsNames: string[];
  ipAddresses: string[];
  uris: string[];
}

/** Every profile × every common key algorithm, plus RSA-3072/4096 once each. */
const leafCases: LeafCase[] = [
  ...(['tls-server', 'tls-client', 'mtls'] as const).flatMap((profile) =>
    (['ECDSA-P256', 'ECDSA-P384', 'RSA-2048', 'Ed25519'] as const).map((keyAlgorithm, i) => ({
      name: `ok/${profile}/${keyAlgorithm}`,
      profile,
      keyAlgorithm,
      // every other case has an empty subject, so the SAN must carry the names (and be critical)
      commonName: i % 2 === 0 ? 'svc.example.com' : null,
      dnsNames: ['svc.example.com', '*.svc.example.com'],
      ipAddresses: profile === 'tls-client' ? [] : ['10.0.0.1'],
      uris: profile === 'tls-server' ? [] : ['spiffe://example.com/ns/default/sa/svc'],
    })),
  ),
  { name: 'ok/tls-server/RSA-3072', profile: 'tls-server', keyAlgorithm: 'RSA-3072', commonName: null, dnsNames: ['svc.example.com'], ipAddresses: [], uris: [] },
  { name: 'ok/mtls/RSA-4096', profile: 'mtls', keyAlgorithm: 'RSA-4096', commonName: 'svc.example.com', dnsNames: ['svc.example.com'], ipAddresses: [], uris: [] },
];

let ca: Hierarchy;
let dir: TempDir;

beforeAll(async () => {
  ca = await buildHierarchy();
  dir = await makeTempDir('leaf');
  await dir.write('root.pem', ca.root.certificate.toString('pem'));
  await dir.write('intermediate.pem', ca.intermediate.certificate.toString('pem'));
});
afterAll(() => dir?.remove());

async function issue(tc: LeafCase, overrides: Partial<LeafRequest> = {}): Promise<x509.X509Certificate> {
  const keys = await generateKeyPair(tc.keyAlgorithm);
  return buildLeafCertificate(ca.issuer, {
    serial: randomSerial(),
    commonName: tc.commonName,
    dnsNames: tc.dnsNames,
    ipAddresses: tc.ipAddresses,
    uris: tc.uris,
    profile: tc.profile,
    subjectPublicKey: keys.publicKey,
    subjectKeyAlgorithm: tc.keyAlgorithm,
    issuedAt: ISSUED_AT,
    validitySeconds: 30 * 86_400,
    ...overrides,
  });
}

function verifyArgs(file: string, purpose: 'sslserver' | 'sslclient', at: Date, hostname?: string): string[] {
  return [
    'verify',
    '-x509_strict',
    '-purpose',
    purpose,
    ...(hostname ? ['-verify_hostname', hostname] : []),
    '-attime',
    epochSeconds(at),
    '-CAfile',
    'root.pem',
    '-untrusted',
    'intermediate.pem',
    file,
  ];
}

describe('buildLeafCertificate', () => {
  it.each(leafCases)('$name', async (tc) => {
    const leaf = await issue(tc);
    const file = `${tc.name.replaceAll('/', '_')}.pem`;
    await dir.write(file, leaf.toString('pem'));

    // The real openssl accepts the chain for every purpose of the profile, with hostname checks.
    for (const purpose of PURPOSES[tc.profile]) {
      const hostname = purpose === 'sslserver' ? 'svc.example.com' : undefined;
      const result = await openssl(verifyArgs(file, purpose, new Date(ISSUED_AT.getTime() + DAY_MS), hostname), dir.path);
      expect(result.stderr).toBe('');
      expect(result.stdout.trim()).toBe(`${file}: OK`);
    }

    // basicConstraints: cA=false, critical
    const basic = leaf.getExtension(x509.BasicConstraintsExtension);
    expect(basic?.ca).toBe(false);
    expect(basic?.critical).toBe(true);
    expect(basic?.pathLength).toBeUndefined();

    // keyUsage: critical; digitalSignature, plus keyEncipherment only for RSA keys of server profiles
    const keyUsage = leaf.getExtension(x509.KeyUsagesExtension);
    expect(keyUsage?.critical).toBe(true);
    const wantUsage = tc.keyAlgorithm.startsWith('RSA') && tc.profile !== 'tls-client'
      ? x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment
      : x509.KeyUsageFlags.digitalSignature;
    expect(keyUsage?.usages).toBe(wantUsage);

    // extendedKeyUsage per profile, not critical
    const eku = leaf.getExtension(x509.ExtendedKeyUsageExtension);
    expect(eku?.critical).toBe(false);
    expect(eku?.usages).toEqual(EKUS[tc.profile]);

    // SAN: present, critical only when the subject is empty
    const san = leaf.getExtension(x509.SubjectAlternativeNameExtension);
    expect(san).not.toBeNull();
    expect(san?.critical).toBe(tc.commonName === null);
    const names = san!.names.toJSON();
    expect(names.filter((n) => n.type === 'dns').map((n) => n.value)).toEqual(tc.dnsNames);
    expect(names.filter((n) => n.type === 'ip').map((n) => n.value)).toEqual(tc.ipAddresses);
    expect(names.filter((n) => n.type === 'url').map((n) => n.value)).toEqual(tc.uris);
    expect(leaf.subject).toBe(tc.commonName === null ? '' : `CN=${tc.commonName}`);

    // AKI key id = intermediate SKI; SKI present
    expect(leaf.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId).toBe(
      ca.intermediate.certificate.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId,
    );
    expect(leaf.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId).toMatch(/^[0-9a-f]{40}$/);

    // serial: 16 bytes, positive (no leading 00 needed, top bit clear)
    expect(leaf.serialNumber).toMatch(/^[0-9a-f]{32}$/);
    expect(Number.parseInt(leaf.serialNumber.slice(0, 2), 16)).toBeLessThan(0x80);
    expect(new NodeX509Certificate(leaf.toString('pem')).serialNumber.toLowerCase()).toBe(leaf.serialNumber);

    // validity: backdated by at most 60 s
    const backdate = ISSUED_AT.getTime() - leaf.notBefore.getTime();
    expect(backdate).toBeGreaterThanOrEqual(0);
    expect(backdate).toBeLessThanOrEqual(MAX_BACKDATE_SECONDS * 1000);
    expect(leaf.notAfter.getTime()).toBe(ISSUED_AT.getTime() + 30 * DAY_MS);
  });

  it('ok/notAfter never exceeds the issuer notAfter (validity longer than the intermediate remaining life)', async () => {
    const issuedAt = new Date(NOW.getTime() + (INTERMEDIATE_VALIDITY_DAYS - 10) * DAY_MS);
    const leaf = await issue(leafCases[0]!, { issuedAt, validitySeconds: 90 * 86_400 });
    expect(leaf.notAfter.getTime()).toBe(ca.intermediate.certificate.notAfter.getTime());
    await dir.write('clamped.pem', leaf.toString('pem'));
    const justBefore = new Date(leaf.notAfter.getTime() - 60_000);
    const ok = await openssl(verifyArgs('clamped.pem', 'sslserver', justBefore, 'svc.example.com'), dir.path);
    expect(ok.stdout.trim()).toBe('clamped.pem: OK');
  });

  const negative: { name: string; purpose: 'sslserver' | 'sslclient'; profile: Profile; hostname?: string; want: RegExp }[] = [
    { name: 'fail/tls-server leaf as sslclient', purpose: 'sslclient', profile: 'tls-server', want: /unsuitable certificate purpose/ },
    { name: 'fail/tls-client leaf as sslserver', purpose: 'sslserver', profile: 'tls-client', want: /unsuitable certificate purpose/ },
    { name: 'fail/hostname not in SAN', purpose: 'sslserver', profile: 'tls-server', hostname: 'other.example.com', want: /hostname mismatch/ },
    { name: 'fail/wildcard matches one label only', purpose: 'sslserver', profile: 'tls-server', hostname: 'a.b.svc.example.com', want: /hostname mismatch/ },
  ];
  it.each(negative)('$name', async ({ purpose, profile, hostname, want }) => {
    const leaf = await issue({ ...leafCases[0]!, profile });
    const file = `negative-${profile}-${purpose}.pem`;
    await dir.write(file, leaf.toString('pem'));
    const result = await openssl(verifyArgs(file, purpose, new Date(ISSUED_AT.getTime() + DAY_MS), hostname), dir.path);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(want);
  });

  it('ok/wildcard SAN matches one label under it', async () => {
    const leaf = await issue(leafCases[0]!);
    await dir.write('wildcard.pem', leaf.toString('pem'));
    const result = await openssl(verifyArgs('wildcard.pem', 'sslserver', new Date(ISSUED_AT.getTime() + DAY_MS), 'api.svc.example.com'), dir.path);
    expect(result.stdout.trim()).toBe('wildcard.pem: OK');
  });

  it('fail/expired leaf is refused by openssl', async () => {
    const leaf = await issue(leafCases[0]!, { validitySeconds: 3600 });
    await dir.write('expired.pem', leaf.toString('pem'));
    const result = await openssl(verifyArgs('expired.pem', 'sslserver', new Date(ISSUED_AT.getTime() + 7200_000)), dir.path);
    expect(result.stderr).toMatch(/certificate has expired/);
  });
});

describe('sha256Fingerprint', () => {
  it('ok/matches node:crypto and openssl', async () => {
    const leaf = await issue(leafCases[0]!);
    const fingerprint = await sha256Fingerprint(leaf);
    expect(fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(fingerprint).toBe(new NodeX509Certificate(leaf.toString('pem')).fingerprint256.replaceAll(':', '').toLowerCase());
    await dir.write('fingerprint.pem', leaf.toString('pem'));
    const result = await openssl(['x509', '-in', 'fingerprint.pem', '-noout', '-fingerprint', '-sha256'], dir.path);
    expect(result.stdout.trim().split('=')[1]?.replaceAll(':', '').toLowerCase()).toBe(fingerprint);
  });

  it('ok/differs between two leaves', async () => {
    const [a, b] = await Promise.all([issue(leafCases[0]!), issue(leafCases[0]!)]);
    expect(await sha256Fingerprint(a)).not.toBe(await sha256Fingerprint(b));
  });
});

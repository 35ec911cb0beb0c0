import { createHash, KeyObject, X509Certificate as NodeX509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TeamPolicy } from '../../../core/policy.js';
import { KEY_ALGORITHMS, PROFILES } from '../../../core/types.js';
import { type IssuanceDeps, IssuanceError, type IssuanceErrorCode, type IssuanceRequest, issueFromRequest, leafValidity, prepareLeaf } from '../../../ca/issuance.js';
import { inMemoryBlocklist, spkiSha256Hex } from '../../../ca/key-checks.js';
import { generateKeyPair } from '../../../ca/keys.js';
import { LeafTemplates } from '../../../ca/leaf-template.js';
import { issuerUrls } from '../../../ca/profiles.js';
import { softwareSigner } from '../../../ca/signer.js';
import { x509 } from '../../../ca/x509.js';
import { buildHierarchy, epochSeconds, type Hierarchy, INTERMEDIATE_VALIDITY_DAYS, makeTempDir, NOW, openssl, type TempDir } from './support.js';

const DAY_MS = 86_400_000;
const ISSUED_AT = new Date(NOW.getTime() + 3_600_000 + 500);
const SERIAL = '7f0102030405060708090a0b0c0d0e0f';
const POLICY: TeamPolicy = {
  allowedDomains: ['example.com'],
  allowWildcards: true,
  allowIpSans: true,
  maxValiditySeconds: 90 * 86_400,
  keyAlgorithms: [...KEY_ALGORITHMS],
  profiles: [...PROFILES],
  allowedUris: { spiffe: [{ trustDomain: 'example.com', pathPrefixes: ['/'] }], httpsHosts: ['example.com'] },
};

/** openssl req arguments for the CSRs the tests use. */
const REQUESTS: Record<string, string[]> = {
  p256: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-subj', '/CN=svc.example.com', '-addext', 'subjectAltName=DNS:svc.example.com,DNS:www.example.com,IP:10.0.0.1'],
  cnOnly: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-subj', '/CN=Solo.Example.com'],
  client: ['-newkey', 'ed25519', '-subj', '/CN=client-1', '-addext', 'subjectAltName=URI:spiffe://example.com/ns/default/sa/client-1'],
  rsa: ['-newkey', 'rsa:2048', '-subj', '/', '-addext', 'subjectAltName=DNS:rsa.example.com'],
};

let ca: Hierarchy;
let dir: TempDir;
let templates: LeafTemplates;
let spki: Uint8Array;
const csrs: Record<string, string> = {};

beforeAll(async () => {
  ca = await buildHierarchy();
  templates = new LeafTemplates({
    id: 'iss_test',
    certificateDer: new Uint8Array(ca.intermediate.certificate.rawData),
    signer: softwareSigner(KeyObject.from(ca.intermediate.keys.privateKey), 'ECDSA-P256'),
    urls: issuerUrls('http://ca.example.com', 'iss_test'),
  });
  spki = new Uint8Array(await crypto.subtle.exportKey('spki', (await generateKeyPair('ECDSA-P256')).publicKey));
  dir = await makeTempDir('issuance');
  await dir.write('root.pem', ca.root.certificate.toString('pem'));
  await dir.write('intermediate.pem', ca.intermediate.certificate.toString('pem'));
  await Promise.all(
    Object.entries(REQUESTS).map(async ([name, args]) => {
      const result = await openssl(['req', '-new', '-nodes', ...args, '-keyout', `${name}.key`, '-out', `${name}.csr`], dir.path);
      if (result.code !== 0) throw new Error(`openssl req for ${name} failed: ${result.stderr}`);
      csrs[name] = (await openssl(['req', '-in', `${name}.csr`], dir.path)).stdout;
    }),
  );
}, 60_000);
afterAll(() => dir?.remove());

function deps(overrides: Partial<IssuanceDeps> = {}): IssuanceDeps {
  return { templates, now: () => ISSUED_AT, serial: () => SERIAL, ...overrides };
}

/** A request for the p256 CSR; each case changes what it is about. */
function request(overrides: Partial<IssuanceRequest> = {}): IssuanceRequest {
  return { key: { csrPem: csrs.p256! }, profile: 'tls-server', validitySeconds: 30 * 86_400, teamPolicy: POLICY, ...overrides };
}

describe('issueFromRequest', () => {
  it('ok/from a CSR: names from the CSR, a certificate openssl accepts', async () => {
    const issued = await issueFromRequest(deps({ chainPem: ca.intermediate.certificate.toString('pem') }), request());
    expect(issued).toMatchObject({
      serial: SERIAL,
      keyAlgorithm: 'ECDSA-P256',
      commonName: 'svc.example.com',
      dnsNames: ['svc.example.com', 'www.example.com'],
      ipAddresses: ['10.0.0.1'],
      uris: [],
      notBefore: new Date(NOW.getTime() + 3_600_000 - 60_000),
      notAfter: new Date(NOW.getTime() + 3_600_000 + 30 * DAY_MS),
      chainPem: ca.intermediate.certificate.toString('pem'),
    });
    const node = new NodeX509Certificate(issued.pem);
    expect(Buffer.from(node.raw)).toEqual(Buffer.from(issued.der));
    expect(issued.fingerprintSha256).toBe(createHash('sha256').update(issued.der).digest('hex'));
    expect(node.serialNumber.toLowerCase()).toBe(SERIAL);
    expect(new Date(node.validFrom)).toEqual(issued.notBefore);
    expect(new Date(node.validTo)).toEqual(issued.notAfter);

    await dir.write('issued.pem', issued.pem);
    const verified = await openssl(
      ['verify', '-x509_strict', '-purpose', 'sslserver', '-verify_hostname', 'www.example.com', '-attime', epochSeconds(new Date(ISSUED_AT.getTime() + DAY_MS)), '-CAfile', 'root.pem', '-untrusted', 'intermediate.pem', 'issued.pem'],
      dir.path,
    );
    expect(verified.stdout.trim()).toBe('issued.pem: OK');
  });

  const ok: { name: string; request: () => IssuanceRequest; want: Record<string, unknown> }[] = [
    {
      name: 'ok/CSR and request list the same names, in another order and case',
      request: () => request({ dnsNames: ['WWW.example.com', 'svc.example.com'], ipAddresses: ['10.0.0.1'] }),
      want: { dnsNames: ['www.example.com', 'svc.example.com'], commonName: 'svc.example.com' },
    },
    {
      name: 'ok/a CSR with only a CN: the CN, lower-cased, becomes the DNS name',
      request: () => request({ key: { csrPem: csrs.cnOnly! } }),
      want: { commonName: 'solo.example.com', dnsNames: ['solo.example.com'] },
    },
    {
      name: 'ok/a CSR without names takes the requested ones; its CN must be among them',
      request: () => request({ key: { csrPem: csrs.cnOnly! }, dnsNames: ['solo.example.com', 'api.example.com'] }),
      want: { commonName: 'solo.example.com', dnsNames: ['solo.example.com', 'api.example.com'] },
    },
    {
      name: 'ok/commonName null leaves the CSR CN out',
      request: () => request({ commonName: null }),
      want: { commonName: null, dnsNames: ['svc.example.com', 'www.example.com'] },
    },
    {
      name: 'ok/Ed25519 tls-client CSR with a URI SAN (CN left out: not a DNS name)',
      request: () => request({ key: { csrPem: csrs.client! }, profile: 'tls-client', commonName: null }),
      want: { keyAlgorithm: 'Ed25519', commonName: null, dnsNames: [], uris: ['spiffe://example.com/ns/default/sa/client-1'] },
    },
    {
      name: 'ok/RSA CSR with an empty subject',
      request: () => request({ key: { csrPem: csrs.rsa! } }),
      want: { keyAlgorithm: 'RSA-2048', commonName: null, dnsNames: ['rsa.example.com'] },
    },
    {
      name: 'ok/a bare public key: the request CN is added to the DNS names, IPs normalized and deduplicated',
      request: () => request({ key: { publicKeySpki: spki }, commonName: 'Api.Example.com', dnsNames: ['svc.example.com'], ipAddresses: ['2001:DB8:0::1', '2001:db8::1'] }),
      want: { commonName: 'api.example.com', dnsNames: ['api.example.com', 'svc.example.com'], ipAddresses: ['2001:db8::1'] },
    },
  ];
  it.each(ok)('$name', async ({ request: makeRequest, want }) => {
    const issued = await issueFromRequest(deps(), makeRequest());
    expect(issued).toMatchObject(want);
    const leaf = new x509.X509Certificate(issued.pem);
    const san = leaf.getExtension(x509.SubjectAlternativeNameExtension)!;
    expect(san.critical).toBe(issued.commonName === null);
    expect(leaf.subject).toBe(issued.commonName === null ? '' : `CN=${issued.commonName}`);
  });

  it('ok/notAfter is clamped to the issuer notAfter', async () => {
    const lateIssuance = new Date(NOW.getTime() + (INTERMEDIATE_VALIDITY_DAYS - 10) * DAY_MS);
    const issued = await issueFromRequest(deps({ now: () => lateIssuance }), request());
    expect(issued.notAfter).toEqual(ca.intermediate.certificate.notAfter);
  });

  const fail: { name: string; deps?: () => Partial<IssuanceDeps>; request: () => IssuanceRequest; code: IssuanceErrorCode; message: RegExp; detail?: Record<string, unknown> }[] = [
    { name: 'fail/csr_invalid: garbage', request: () => request({ key: { csrPem: 'not a csr' } }), code: 'csr_invalid', message: /not a PEM-encoded PKCS#10/ },
    {
      name: 'fail/csr_invalid: tampered signature',
      request: () => request({ key: { csrPem: csrs.p256!.replace(/(.)(\n-----END)/, (_, c: string, end: string) => `${c === 'A' ? 'B' : 'A'}${end}`) } }),
      code: 'csr_invalid',
      message: /signature does not verify|not a PEM-encoded/,
    },
    {
      name: 'fail/names_mismatch: CSR and request DNS names differ',
      request: () => request({ dnsNames: ['svc.example.com'] }),
      code: 'names_mismatch',
      message: /the csr asks for dnsNames \[svc\.example\.com, www\.example\.com\] but the request names \[svc\.example\.com\]/,
    },
    {
      name: 'fail/names_mismatch: CSR and request IPs differ',
      request: () => request({ dnsNames: ['svc.example.com', 'www.example.com'], ipAddresses: ['10.0.0.2'] }),
      code: 'names_mismatch',
      message: /ipAddresses \[10\.0\.0\.1\].*\[10\.0\.0\.2\]/,
    },
    {
      name: 'fail/names_mismatch: the CSR CN is not among the requested names',
      request: () => request({ key: { csrPem: csrs.cnOnly! }, dnsNames: ['api.example.com'] }),
      code: 'names_mismatch',
      message: /subject CN "solo\.example\.com" is not among the requested DNS names; add it to dnsNames or set commonName to null/,
    },
    { name: 'fail/name_invalid: a requested DNS name', request: () => request({ key: { publicKeySpki: spki }, dnsNames: ['bad_name.example.com'] }), code: 'name_invalid', message: /the request: "bad_name\.example\.com" is not a valid DNS name/ },
    { name: 'fail/name_invalid: a requested IP address', request: () => request({ key: { publicKeySpki: spki }, ipAddresses: ['10.0.0.300'] }), code: 'name_invalid', message: /"10\.0\.0\.300" is not a valid IP address/ },
    {
      name: 'fail/name_invalid: the CSR CN is not a DNS name',
      request: () => request({ key: { csrPem: csrs.client! }, profile: 'tls-client' }),
      code: 'name_invalid',
      message: /the csr's commonName: "client-1" is not a valid DNS name.*set commonName to null/,
    },
    {
      name: 'fail/key_rejected: Ed25519 on tls-server',
      request: () => request({ key: { csrPem: csrs.client! }, commonName: null }),
      code: 'key_rejected',
      message: /Ed25519 keys are not allowed for the tls-server profile/,
      detail: { keyCheckReason: 'algorithm_not_allowed' },
    },
    {
      name: 'fail/key_rejected: blocklisted key',
      deps: () => ({ keyBlocklist: inMemoryBlocklist([spkiSha256Hex(spki)]) }),
      request: () => request({ key: { publicKeySpki: spki }, dnsNames: ['svc.example.com'] }),
      code: 'key_rejected',
      message: /blocklisted/,
      detail: { keyCheckReason: 'blocklisted' },
    },
    {
      name: 'fail/policy_violation: name outside the team domains',
      request: () => request({ key: { publicKeySpki: spki }, dnsNames: ['svc.example.org'] }),
      code: 'policy_violation',
      message: /"svc\.example\.org" is outside the team's allowed domains/,
      detail: { policyViolation: expect.objectContaining({ code: 'name_outside_allowed_domains' }) },
    },
    {
      name: 'fail/policy_violation: validity too long',
      request: () => request({ validitySeconds: 91 * 86_400 }),
      code: 'policy_violation',
      message: /exceeds the team's maximum/,
      detail: { policyViolation: expect.objectContaining({ code: 'validity_too_long' }) },
    },
    { name: 'fail/name_invalid: no name at all', request: () => request({ key: { publicKeySpki: spki } }), code: 'name_invalid', message: /needs at least one name/ },
    { name: 'fail/lint_failed: a short serial from the serial source', deps: () => ({ serial: () => '01' }), request: () => request(), code: 'lint_failed', message: /serial has 1 bits/ },
    {
      name: 'fail/lint_failed: the issuer has expired',
      deps: () => ({ now: () => new Date(ca.intermediate.certificate.notAfter.getTime() + DAY_MS) }),
      request: () => request(),
      code: 'lint_failed',
      message: /notBefore .* is not before notAfter/,
      detail: { lintViolations: [expect.objectContaining({ code: 'validity_empty' })] },
    },
  ];
  it.each(fail)('$name', async ({ deps: depsOverrides, request: makeRequest, code, message, detail }) => {
    const issuing = issueFromRequest(deps(depsOverrides?.()), makeRequest());
    await expect(issuing).rejects.toBeInstanceOf(IssuanceError);
    await expect(issuing).rejects.toMatchObject({ code, message: expect.stringMatching(message), ...(detail ? { details: detail } : {}) });
  });
});

describe('prepareLeaf', () => {
  it('ok/returns the fields that would be signed', async () => {
    const fields = await prepareLeaf(deps(), request());
    expect(fields).toMatchObject({ serial: SERIAL, profile: 'tls-server', subjectKeyAlgorithm: 'ECDSA-P256', dnsNames: ['svc.example.com', 'www.example.com'] });
    expect(Buffer.from(fields.subjectPublicKeySpki).length).toBe(91);
  });
});

describe('leafValidity', () => {
  const issuerNotAfter = new Date('2026-01-01T00:00:00Z');
  const issuedAt = new Date('2025-06-01T12:00:00.750Z');
  const cases: { name: string; validitySeconds: number; notBefore: string; notAfter: string }[] = [
    { name: 'ok/30 days, backdated 60 s, whole seconds', validitySeconds: 30 * 86_400, notBefore: '2025-06-01T11:59:00.000Z', notAfter: '2025-07-01T12:00:00.000Z' },
    { name: 'ok/300 s, backdated 10 %', validitySeconds: 300, notBefore: '2025-06-01T11:59:30.000Z', notAfter: '2025-06-01T12:05:00.000Z' },
    { name: 'ok/9 s, not backdated', validitySeconds: 9, notBefore: '2025-06-01T12:00:00.000Z', notAfter: '2025-06-01T12:00:09.000Z' },
    { name: 'ok/clamped to the issuer notAfter', validitySeconds: 365 * 86_400, notBefore: '2025-06-01T11:59:00.000Z', notAfter: '2026-01-01T00:00:00.000Z' },
  ];
  it.each(cases)('$name', ({ validitySeconds, notBefore, notAfter }) => {
    const validity = leafValidity(issuedAt, validitySeconds, issuerNotAfter);
    expect(validity.notBefore.toISOString()).toBe(notBefore);
    expect(validity.notAfter.toISOString()).toBe(notAfter);
  });
});

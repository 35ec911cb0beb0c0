import { webcrypto } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { parsePemBundle } from '../../../ca/pem-bundle.js';
import { x509 } from '../../../ca/x509.js';
import { inventoryPolicyFindings } from '../../../core/inventory-policy.js';
import type { TeamPolicy } from '../../../core/policy.js';

const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
let pem: string;
let keys: CryptoKeyPair;

beforeAll(async () => {
  keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '00ff01',
    name: 'CN=svc.example.test',
    notBefore: new Date('2026-01-01T00:00:00Z'),
    notAfter: new Date('2026-04-01T00:00:00Z'),
    keys,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'svc.example.test' }, { type: 'dns', value: 'other.elsewhere.test' }, { type: 'ip', value: '10.0.0.1' }]),
      new x509.ExtendedKeyUsageExtension(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']),
    ],
  });
  pem = certificate.toString('pem');
});

describe('parsePemBundle', () => {
  it('ok/one certificate, described', () => {
    const [item] = parsePemBundle(pem);
    expect(item && 'certificate' in item).toBe(true);
    const certificate = (item as { certificate: ReturnType<typeof Object> }).certificate as Record<string, unknown>;
    expect(certificate).toMatchObject({
      serial: 'ff01',
      commonName: 'svc.example.test',
      dnsNames: ['svc.example.test', 'other.elsewhere.test'],
      ipAddresses: ['10.0.0.1'],
      notAfter: new Date('2026-04-01T00:00:00Z'),
      publicKey: 'ECDSA-P256',
      keyAlgorithm: 'ECDSA-P256',
      profile: 'mtls',
    });
    expect(certificate['fingerprintSha256']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('ok/a bundle with CRLF line ends and blank lines between blocks', () => {
    const items = parsePemBundle(`\r\n${pem.replace(/\n/g, '\r\n')}\r\n\r\n${pem}\n`);
    expect(items.map((item) => 'certificate' in item)).toEqual([true, true]);
  });

  it.each([
    ['fail/empty', '', 'no PEM CERTIFICATE block'],
    ['fail/not PEM', 'hello', 'no PEM CERTIFICATE block'],
    ['fail/private key', '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', 'private keys are never imported'],
    ['fail/bad base64', '-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n', 'base64 is malformed'],
    ['fail/base64 that is no certificate', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', 'not a DER X.509 certificate'],
  ])('%s', (_name, text, message) => {
    const items = parsePemBundle(text);
    expect(items.some((item) => 'error' in item && item.error.includes(message))).toBe(true);
    expect(items.every((item) => 'error' in item)).toBe(true);
  });

  it('fail/trailing bytes inside the DER are refused, the good block next to it is kept', () => {
    const body = pem.replace(/-----[^-]+-----/g, '').replace(/\s/g, '');
    const padded = Buffer.concat([Buffer.from(body, 'base64'), Buffer.from([0, 0, 0])]).toString('base64');
    const items = parsePemBundle(`-----BEGIN CERTIFICATE-----\n${padded}\n-----END CERTIFICATE-----\n${pem}`);
    expect(items.map((item) => ('error' in item ? 'error' : 'ok'))).toEqual(['error', 'ok']);
  });

  it('fail/a NUL in a name (Postgres cannot store it): that certificate alone', async () => {
    const nul = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '02',
      name: [{ '2.5.4.3': [{ utf8String: 'nul\u0000.example.test' }] }] as unknown as string,
      notBefore: new Date('2026-01-01T00:00:00Z'),
      notAfter: new Date('2026-04-01T00:00:00Z'),
      keys,
      signingAlgorithm: algorithm,
    });
    const items = parsePemBundle(`${nul.toString('pem')}\n${pem}`);
    expect(items.map((item) => ('error' in item ? item.error : 'ok'))).toEqual([expect.stringContaining('NUL'), 'ok']);
  });

  it('text between blocks is reported, the blocks still read', () => {
    const items = parsePemBundle(`${pem}garbage\n${pem}`);
    expect(items.map((item) => ('error' in item ? 'error' : 'ok'))).toEqual(['ok', 'error', 'ok']);
  });
});

describe('inventoryPolicyFindings', () => {
  const policy = { allowedDomains: ['example.test'], allowWildcards: false, allowIpSans: false, maxValiditySeconds: 86_400, keyAlgorithms: ['ECDSA-P256'], profiles: ['tls-server'] } as TeamPolicy;
  it('flags the names outside the policy, not the other CA\'s choices', () => {
    const [item] = parsePemBundle(pem);
    const certificate = (item as { certificate: Parameters<typeof inventoryPolicyFindings>[0] }).certificate;
    const findings = inventoryPolicyFindings(certificate, policy);
    expect(findings.map((finding) => finding.name).sort()).toEqual(['10.0.0.1', 'other.elsewhere.test']);
  });
});

/**
 * One import of the subject key per request: readCsr imports a CSR's key to verify its signature
 * and hands the KeyObject on, the key checks import a bare SPKI themselves, and nothing else in the
 * pipeline (names, policy, lint, template, signing) imports it again. Counted at node:crypto's
 * createPublicKey, the only way a public key becomes a KeyObject here.
 */
import * as nodeCrypto from 'node:crypto';
import { KeyObject } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { TeamPolicy } from '../../../core/policy.js';
import { KEY_ALGORITHMS, PROFILES, type KeyAlgorithm, type Profile } from '../../../core/types.js';
import { type IssuanceDeps, type IssuanceRequest, issueFromRequest } from '../../../ca/issuance.js';
import { rsaCheckedKeys } from '../../../ca/key-checks.js';
import { generateKeyPair } from '../../../ca/keys.js';
import { LeafTemplates } from '../../../ca/leaf-template.js';
import { issuerUrls } from '../../../ca/profiles.js';
import { randomSerial } from '../../../ca/serial.js';
import { SIGNING_HASH, softwareSigner } from '../../../ca/signer.js';
import { x509 } from '../../../ca/x509.js';
import { buildHierarchy, NOW } from './support.js';

vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof nodeCrypto>();
  return { ...actual, createPublicKey: vi.fn(actual.createPublicKey) };
});
const createPublicKey = vi.mocked(nodeCrypto.createPublicKey);

const POLICY: TeamPolicy = {
  allowedDomains: ['example.com'],
  allowWildcards: false,
  allowIpSans: false,
  maxValiditySeconds: 90 * 86_400,
  keyAlgorithms: [...KEY_ALGORITHMS],
  profiles: [...PROFILES],
};

let deps: IssuanceDeps;
const subjects = new Map<KeyAlgorithm, { csrPem: string; spki: Uint8Array }>();
const ALGORITHMS: { keyAlgorithm: KeyAlgorithm; profile: Profile; format: 'jwk' | 'der' }[] = [
  { keyAlgorithm: 'ECDSA-P256', profile: 'tls-server', format: 'jwk' },
  { keyAlgorithm: 'ECDSA-P384', profile: 'tls-server', format: 'der' },
  { keyAlgorithm: 'RSA-2048', profile: 'tls-server', format: 'jwk' },
  { keyAlgorithm: 'Ed25519', profile: 'tls-client', format: 'jwk' },
];

beforeAll(async () => {
  const ca = await buildHierarchy();
  const templates = new LeafTemplates({
    id: 'iss_import_once',
    certificateDer: new Uint8Array(ca.intermediate.certificate.rawData),
    signer: softwareSigner(KeyObject.from(ca.intermediate.keys.privateKey), 'ECDSA-P256'),
    urls: issuerUrls('http://ca.example.com', 'iss_import_once'),
  });
  deps = { templates, now: () => new Date(NOW.getTime() + 3_600_000), serial: randomSerial };
  for (const { keyAlgorithm } of ALGORITHMS) {
    const keys = await generateKeyPair(keyAlgorithm);
    const hash = SIGNING_HASH[keyAlgorithm];
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      name: 'CN=svc.example.com',
      keys,
      signingAlgorithm: keyAlgorithm === 'Ed25519' ? { name: 'Ed25519' } : { ...keys.privateKey.algorithm, hash: hash === 'sha384' ? 'SHA-384' : 'SHA-256' },
      extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'svc.example.com' }])],
    });
    subjects.set(keyAlgorithm, { csrPem: csr.toString('pem'), spki: new Uint8Array(csr.publicKey.rawData) });
  }
}, 60_000);

afterEach(() => createPublicKey.mockClear());

async function importsDuring(request: IssuanceRequest): Promise<{ format: unknown }[]> {
  rsaCheckedKeys.clear();
  createPublicKey.mockClear();
  await issueFromRequest(deps, request);
  return createPublicKey.mock.calls.map(([key]) => ({ format: (key as { format?: unknown }).format }));
}

describe('the subject key is imported once per issuance', () => {
  it.each(ALGORITHMS)('ok/$keyAlgorithm from a CSR: one import ($format), by readCsr', async ({ keyAlgorithm, profile, format }) => {
    const request: IssuanceRequest = { key: { csrPem: subjects.get(keyAlgorithm)!.csrPem }, profile, validitySeconds: 30 * 86_400, teamPolicy: POLICY };
    expect(await importsDuring(request)).toEqual([{ format }]);
  });

  it.each(ALGORITHMS)('ok/$keyAlgorithm as a bare SPKI: one import ($format), by the key checks', async ({ keyAlgorithm, profile, format }) => {
    const request: IssuanceRequest = {
      key: { publicKeySpki: subjects.get(keyAlgorithm)!.spki },
      dnsNames: ['svc.example.com'],
      profile,
      validitySeconds: 30 * 86_400,
      teamPolicy: POLICY,
    };
    expect(await importsDuring(request)).toEqual([{ format }]);
  });
});

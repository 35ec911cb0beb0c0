/**
 * What the benchmark signs with and for: per key algorithm an issuing CA (root + intermediate of
 * that algorithm, made with ca/authority.ts), its LeafTemplates, and a pool of distinct subject
 * keys with PEM CSRs, so no measurement can profit from a repeated key.
 */
import { type JsonWebKey, KeyObject, randomBytes, sign } from 'node:crypto';
import { createIntermediateCa, createRootCa } from '../ca/authority.js';
import { generateKeyPair } from '../ca/keys.js';
import type { IssuerForSigning } from '../test/support/reference-leaf.js';
import { LeafTemplates } from '../ca/leaf-template.js';
import { issuerUrls } from '../ca/profiles.js';
import { randomSerial } from '../ca/serial.js';
import { SIGNING_HASH, softwareSigner } from '../ca/signer.js';
import { x509 } from '../ca/x509.js';
import type { TeamPolicy } from '../core/policy.js';
import { KEY_ALGORITHMS, PROFILES, type KeyAlgorithm } from '../core/types.js';

/** The issuing CA is created at this instant; certificates are issued a day later. */
export const CA_CREATED_AT = new Date('2025-01-01T00:00:00Z');
export const ISSUED_AT = new Date(CA_CREATED_AT.getTime() + 86_400_000);
export const BENCH_DOMAIN = 'bench.example.com';

export const BENCH_POLICY: TeamPolicy = {
  allowedDomains: [BENCH_DOMAIN],
  allowWildcards: false,
  allowIpSans: true,
  maxValiditySeconds: 90 * 86_400,
  keyAlgorithms: [...KEY_ALGORITHMS],
  profiles: [...PROFILES],
};

export interface SubjectKey {
  publicKey: CryptoKey;
  /** The same public key as a ready node:crypto KeyObject (for the raw baseline). */
  publicKeyObject: KeyObject;
  /** The same public key as a JWK (for the baseline that imports it as readCsr does). */
  jwk: JsonWebKey;
  spki: Uint8Array;
  csrPem: string;
  /** A signature by this key over `signedData`, as large as a CSR's: the raw verify baseline. */
  signedData: Buffer;
  signature: Buffer;
}

export interface BenchSetup {
  keyAlgorithm: KeyAlgorithm;
  /** For the @peculiar/x509 reference builder. */
  issuer: IssuerForSigning;
  templates: LeafTemplates;
  /** The issuer's private key as node:crypto signs with it. */
  signingKey: KeyObject | { key: KeyObject; dsaEncoding: 'der' };
  hash: 'sha256' | 'sha384' | null;
  subjects: SubjectKey[];
}

export async function benchSetup(keyAlgorithm: KeyAlgorithm, poolSize: number): Promise<BenchSetup> {
  const signing = { keyAlgorithm, validityDays: 365, now: CA_CREATED_AT, serial: randomSerial, organization: 'Certflow Bench' };
  const root = await createRootCa({ ...signing, commonName: `Bench Root ${keyAlgorithm}`, validityDays: 3650 });
  const intermediate = await createIntermediateCa(
    { certificate: root.certificate, signingKey: root.keys.privateKey, keyAlgorithm },
    { ...signing, commonName: `Bench Issuing CA ${keyAlgorithm}` },
  );
  const privateKey = KeyObject.from(intermediate.keys.privateKey);
  const signer = softwareSigner(privateKey, keyAlgorithm);
  const templates = new LeafTemplates({
    id: `iss_bench_${keyAlgorithm}`,
    certificateDer: new Uint8Array(intermediate.certificate.rawData),
    signer,
    urls: issuerUrls('http://ca.example.com', `iss_bench_${keyAlgorithm}`),
  });
  const subjects = await Promise.all(Array.from({ length: poolSize }, (_, index) => subjectKey(keyAlgorithm, index)));
  return {
    keyAlgorithm,
    issuer: { certificate: intermediate.certificate, signingKey: intermediate.keys.privateKey, keyAlgorithm },
    templates,
    signingKey: keyAlgorithm.startsWith('ECDSA') ? { key: privateKey, dsaEncoding: 'der' } : privateKey,
    hash: SIGNING_HASH[keyAlgorithm],
    subjects,
  };
}

async function subjectKey(keyAlgorithm: KeyAlgorithm, index: number): Promise<SubjectKey> {
  const keys = await generateKeyPair(keyAlgorithm);
  const name = `svc-${index}.${BENCH_DOMAIN}`;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${name}`,
    keys,
    signingAlgorithm: { name: keys.privateKey.algorithm.name, hash: SIGNING_HASH[keyAlgorithm] === 'sha384' ? 'SHA-384' : 'SHA-256' },
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: name }])],
  });
  const privateKey = KeyObject.from(keys.privateKey);
  const signedData = randomBytes(csr.rawData.byteLength);
  const signKey = keyAlgorithm.startsWith('ECDSA') ? { key: privateKey, dsaEncoding: 'der' as const } : privateKey;
  return {
    publicKey: keys.publicKey,
    publicKeyObject: KeyObject.from(keys.publicKey),
    jwk: KeyObject.from(keys.publicKey).export({ format: 'jwk' }),
    spki: new Uint8Array(csr.publicKey.rawData),
    csrPem: csr.toString('pem'),
    signedData,
    signature: sign(SIGNING_HASH[keyAlgorithm], signedData, signKey),
  };
}

/** Fixtures shared by the CRL and OCSP unit tests: Signers over the test hierarchy's keys, and leaves. */
import { createPrivateKey } from 'node:crypto';
import type { KeyAlgorithm } from '../../../core/types.js';
import { createIntermediateCa, createRootCa, type CaKeyAndCertificate } from '../../../ca/authority.js';
import { exportPrivateKeyPkcs8, generateKeyPair } from '../../../ca/keys.js';
import { buildLeafCertificate } from '../../support/reference-leaf.js';
import { randomSerial } from '../../../ca/serial.js';
import { softwareSigner, type Signer } from '../../../ca/signer.js';
import type { x509 } from '../../../ca/x509.js';
import { NOW, type Hierarchy } from './support.js';

/** A software Signer over a CA's (extractable, test-only) private key. */
export async function signerOf(ca: CaKeyAndCertificate): Promise<Signer> {
  const pkcs8 = await exportPrivateKeyPkcs8(ca.keys.privateKey);
  return softwareSigner(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }), ca.keyAlgorithm);
}

/** A self-signed root of the given algorithm, created at NOW. */
export function rootOf(keyAlgorithm: KeyAlgorithm): Promise<CaKeyAndCertificate> {
  return createRootCa({ commonName: `Certflow Test Root ${keyAlgorithm}`, organization: 'Certflow Test', keyAlgorithm, validityDays: 365, now: NOW, serial: randomSerial });
}

/** Like support.ts's buildHierarchy, but created at `now` (for checks that only run against the real clock). */
export async function hierarchyAt(now: Date): Promise<Hierarchy> {
  const root = await createRootCa({ commonName: 'Certflow Test Root CA', organization: 'Certflow Test', keyAlgorithm: 'ECDSA-P384', validityDays: 30, now, serial: randomSerial });
  const intermediate = await createIntermediateCa(
    { certificate: root.certificate, signingKey: root.keys.privateKey, keyAlgorithm: root.keyAlgorithm },
    { commonName: 'Certflow Test Issuing CA 1', organization: 'Certflow Test', keyAlgorithm: 'ECDSA-P256', validityDays: 30, now, serial: randomSerial },
  );
  return {
    root,
    intermediate,
    issuer: { certificate: intermediate.certificate, signingKey: intermediate.keys.privateKey, keyAlgorithm: intermediate.keyAlgorithm },
  };
}

/** A tls-server leaf for `name` issued by the hierarchy's intermediate at `issuedAt` (default: one hour after NOW), valid 30 days. */
export async function leafOf(ca: Hierarchy, name: string, issuedAt = new Date(NOW.getTime() + 3_600_000)): Promise<x509.X509Certificate> {
  const keys = await generateKeyPair('ECDSA-P256');
  return buildLeafCertificate(ca.issuer, {
    serial: randomSerial(),
    commonName: name,
    dnsNames: [name],
    ipAddresses: [],
    uris: [],
    profile: 'tls-server',
    subjectPublicKey: keys.publicKey,
    subjectKeyAlgorithm: 'ECDSA-P256',
    issuedAt,
    validitySeconds: 30 * 86_400,
  });
}

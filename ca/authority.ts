/**
 * Building the CA hierarchy: a self-signed root and an issuing intermediate (pathLen 0).
 * Clock and serial source are injected; keys are generated here and returned for sealing.
 */
import type { KeyAlgorithm } from '../core/types.js';
import { x509 } from './x509.js';
import { ALGORITHM_SPECS, generateKeyPair } from './keys.js';
import type { SerialSource } from './serial.js';

export interface CaKeyAndCertificate {
  certificate: x509.X509Certificate;
  keys: CryptoKeyPair;
  keyAlgorithm: KeyAlgorithm;
}

export interface CreateCaOptions {
  commonName: string;
  organization: string;
  keyAlgorithm: KeyAlgorithm;
  validityDays: number;
  now: Date;
  serial: SerialSource;
}

const CA_KEY_USAGE = x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign;

export async function createRootCa(options: CreateCaOptions): Promise<CaKeyAndCertificate> {
  const keys = await generateKeyPair(options.keyAlgorithm);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: options.serial(),
    name: distinguishedName(options),
    notBefore: options.now,
    notAfter: addDays(options.now, options.validityDays),
    signingAlgorithm: ALGORITHM_SPECS[options.keyAlgorithm].signing,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(CA_KEY_USAGE, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certificate, keys, keyAlgorithm: options.keyAlgorithm };
}

export async function createIntermediateCa(
  parent: { certificate: x509.X509Certificate; signingKey: CryptoKey; keyAlgorithm: KeyAlgorithm },
  options: CreateCaOptions,
): Promise<CaKeyAndCertificate> {
  const keys = await generateKeyPair(options.keyAlgorithm);
  const notAfter = earliest(addDays(options.now, options.validityDays), parent.certificate.notAfter);
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: options.serial(),
    subject: distinguishedName(options),
    issuer: parent.certificate.subjectName,
    notBefore: options.now,
    notAfter,
    signingAlgorithm: ALGORITHM_SPECS[parent.keyAlgorithm].signing,
    publicKey: keys.publicKey,
    signingKey: parent.signingKey,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(CA_KEY_USAGE, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      authorityKeyIdentifier(parent.certificate),
    ],
  });
  return { certificate, keys, keyAlgorithm: options.keyAlgorithm };
}

/** AKI carrying only the issuer's key id (not issuer name + serial), as RFC 5280 §4.2.1.1 prefers. */
export function authorityKeyIdentifier(issuer: x509.X509Certificate): x509.AuthorityKeyIdentifierExtension {
  const ski = issuer.getExtension(x509.SubjectKeyIdentifierExtension);
  if (!ski) throw new Error(`issuer "${issuer.subject}" has no subject key identifier`);
  return new x509.AuthorityKeyIdentifierExtension(ski.keyId, false);
}

function distinguishedName(options: CreateCaOptions): x509.JsonName {
  return [{ O: [options.organization] }, { CN: [options.commonName] }];
}

function addDays(date: Date, days: number): Date {
  return new Date(date.getTime() + days * 86_400_000);
}

export function earliest(a: Date, b: Date): Date {
  return a.getTime() <= b.getTime() ? a : b;
}

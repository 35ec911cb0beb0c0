/**
 * Building and signing a leaf certificate from a profile. Extensions come only from the profile and
 * the canonical request — never copied from a CSR.
 */
import type { KeyAlgorithm, Profile } from '../core/types.js';
import { x509 } from './x509.js';
import { ALGORITHM_SPECS } from './keys.js';
import { authorityKeyIdentifier, earliest } from './authority.js';
import { leafKeyUsage } from './profiles.js';

export interface IssuerForSigning {
  certificate: x509.X509Certificate;
  signingKey: CryptoKey;
  keyAlgorithm: KeyAlgorithm;
}

export interface LeafRequest {
  serial: string;
  commonName: string | null;
  dnsNames: string[];
  ipAddresses: string[];
  uris: string[];
  profile: Profile;
  subjectPublicKey: CryptoKey;
  subjectKeyAlgorithm: KeyAlgorithm;
  issuedAt: Date;
  validitySeconds: number;
}

/** notBefore is moved back by this much (at most 10 % of the validity) to tolerate clock skew. */
export const MAX_BACKDATE_SECONDS = 60;

const PROFILE_USAGES: Record<Profile, x509.ExtendedKeyUsage[]> = {
  'tls-server': [x509.ExtendedKeyUsage.serverAuth],
  'tls-client': [x509.ExtendedKeyUsage.clientAuth],
  mtls: [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth],
};

export function leafValidity(issuer: x509.X509Certificate, issuedAt: Date, validitySeconds: number): { notBefore: Date; notAfter: Date } {
  const backdate = Math.min(MAX_BACKDATE_SECONDS, Math.floor(validitySeconds / 10));
  const notBefore = new Date(issuedAt.getTime() - backdate * 1000);
  const notAfter = earliest(new Date(issuedAt.getTime() + validitySeconds * 1000), issuer.notAfter);
  return { notBefore, notAfter };
}

export async function buildLeafCertificate(issuer: IssuerForSigning, request: LeafRequest): Promise<x509.X509Certificate> {
  const { notBefore, notAfter } = leafValidity(issuer.certificate, request.issuedAt, request.validitySeconds);
  const subjectIsEmpty = request.commonName === null;
  const keyUsage = leafKeyUsage(request.subjectKeyAlgorithm, request.profile).keyEncipherment
    ? x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment
    : x509.KeyUsageFlags.digitalSignature;

  return x509.X509CertificateGenerator.create({
    serialNumber: request.serial,
    subject: subjectIsEmpty ? [] : [{ CN: [request.commonName!] }],
    issuer: issuer.certificate.subjectName,
    notBefore,
    notAfter,
    signingAlgorithm: ALGORITHM_SPECS[issuer.keyAlgorithm].signing,
    publicKey: request.subjectPublicKey,
    signingKey: issuer.signingKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(keyUsage, true),
      new x509.ExtendedKeyUsageExtension(PROFILE_USAGES[request.profile], false),
      new x509.SubjectAlternativeNameExtension(subjectAlternativeNames(request), subjectIsEmpty),
      await x509.SubjectKeyIdentifierExtension.create(request.subjectPublicKey),
      authorityKeyIdentifier(issuer.certificate),
    ],
  });
}

function subjectAlternativeNames(request: LeafRequest): x509.JsonGeneralNames {
  return [
    ...request.dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...request.ipAddresses.map((value) => ({ type: 'ip' as const, value })),
    ...request.uris.map((value) => ({ type: 'url' as const, value })),
  ];
}

export function sha256Fingerprint(certificate: x509.X509Certificate): Promise<string> {
  return certificate.getThumbprint('SHA-256').then((digest) => Buffer.from(digest).toString('hex'));
}

/**
 * Test oracle: the reference leaf builder on @peculiar/x509, slow (~50 certificates/s), kept as an independent
 * encoder that tests compare the production template builder (leaf-template.ts) against. Production
 * issuance goes through ca/issuance.ts. Validity and key usage follow the same rules (issuance.ts,
 * profiles.ts); CRL DP, AIA and policies are left out.
 */
import type { KeyAlgorithm, Profile } from '../../core/types.js';
import { x509 } from '../../ca/x509.js';
import { ALGORITHM_SPECS } from '../../ca/keys.js';
import { authorityKeyIdentifier } from '../../ca/authority.js';
import { leafValidity } from '../../ca/issuance.js';
import { leafKeyUsage, PROFILE_EXTENDED_KEY_USAGES } from '../../ca/profiles.js';

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

export async function buildLeafCertificate(issuer: IssuerForSigning, request: LeafRequest): Promise<x509.X509Certificate> {
  const { notBefore, notAfter } = leafValidity(request.issuedAt, request.validitySeconds, issuer.certificate.notAfter);
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
      new x509.ExtendedKeyUsageExtension(PROFILE_EXTENDED_KEY_USAGES[request.profile], false),
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

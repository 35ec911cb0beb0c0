/**
 * Test oracle: delegated OCSP responder certificates (RFC 6960 §4.2.2.2): issued by the CA whose certificates the
 * responder answers for, extendedKeyUsage id-kp-OCSPSigning, and id-pkix-ocsp-nocheck (§4.2.2.2.1) so
 * clients do not try to check the responder's own revocation status — which is why its validity is
 * kept short. Pure: clock, serial and keys are inputs.
 */
import { authorityKeyIdentifier } from '../../ca/authority.js';
import { ALGORITHM_SPECS } from '../../ca/keys.js';
import type { IssuerForSigning } from './reference-leaf.js';
import { OCSP_OIDS } from '../../ca/ocsp.js';
import { x509 } from '../../ca/x509.js';

/** Longest validity Certflow gives a responder certificate (it cannot be revoked in practice: nocheck). */
export const MAX_RESPONDER_VALIDITY_SECONDS = 7 * 24 * 3600;

export interface ResponderCertificateRequest {
  serial: string;
  commonName: string;
  publicKey: CryptoKey;
  notBefore: Date;
  validitySeconds: number;
}

export async function buildOcspResponderCertificate(issuer: IssuerForSigning, request: ResponderCertificateRequest): Promise<x509.X509Certificate> {
  if (request.validitySeconds <= 0 || request.validitySeconds > MAX_RESPONDER_VALIDITY_SECONDS) {
    throw new Error(`responder certificates live at most ${MAX_RESPONDER_VALIDITY_SECONDS} s`);
  }
  const notAfter = new Date(Math.min(request.notBefore.getTime() + request.validitySeconds * 1000, issuer.certificate.notAfter.getTime()));
  return x509.X509CertificateGenerator.create({
    serialNumber: request.serial,
    subject: [{ CN: [request.commonName] }],
    issuer: issuer.certificate.subjectName,
    notBefore: request.notBefore,
    notAfter,
    signingAlgorithm: ALGORITHM_SPECS[issuer.keyAlgorithm].signing,
    publicKey: request.publicKey,
    signingKey: issuer.signingKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([OCSP_OIDS.ocspSigning], false),
      new x509.Extension(OCSP_OIDS.noCheck, false, new Uint8Array([0x05, 0x00])),
      await x509.SubjectKeyIdentifierExtension.create(request.publicKey),
      authorityKeyIdentifier(issuer.certificate),
    ],
  });
}

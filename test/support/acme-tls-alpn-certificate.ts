/**
 * tls-alpn-01 validation certificates (RFC 8737 §3) as a client's server would make them, built
 * with @peculiar/x509 (independent of the reader under test), plus the broken variants the
 * validation must refuse.
 */
import { createHash } from 'node:crypto';
import { exportPrivateKeyPkcs8, generateKeyPair, privateKeyPem } from '../../ca/keys.js';
import { x509 } from '../../ca/x509.js';

export const ACME_IDENTIFIER_OID = '1.3.6.1.5.5.7.1.31';

export interface TlsAlpnCertificateSpec {
  /** subjectAltName entries; none: no subjectAltName extension. */
  names: { type: 'dns' | 'ip'; value: string }[];
  /** Key authorization whose SHA-256 the acmeIdentifier holds; null: no acmeIdentifier extension. */
  keyAuthorization: string | null;
  /** The acmeIdentifier's criticality (RFC 8737 requires true). */
  critical?: boolean;
  /** Replaces the acmeIdentifier's extnValue (malformed variants). */
  acmeIdentifierValue?: Uint8Array;
  /** Puts the acmeIdentifier extension in twice (RFC 5280 §4.2 forbids it). */
  acmeIdentifierTwice?: boolean;
}

export interface TlsAlpnCertificate {
  der: Buffer;
  certificatePem: string;
  keyPem: string;
}

export async function buildTlsAlpnCertificate(spec: TlsAlpnCertificateSpec): Promise<TlsAlpnCertificate> {
  const keys = await generateKeyPair('ECDSA-P256');
  const extensions: x509.Extension[] = [];
  if (spec.names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(spec.names, true));
  if (spec.keyAuthorization !== null || spec.acmeIdentifierValue) {
    const value = spec.acmeIdentifierValue ? new Uint8Array(spec.acmeIdentifierValue) : Buffer.concat([Buffer.from([0x04, 0x20]), createHash('sha256').update(spec.keyAuthorization ?? '').digest()]);
    extensions.push(new x509.Extension(ACME_IDENTIFIER_OID, spec.critical ?? true, value));
    if (spec.acmeIdentifierTwice) extensions.push(new x509.Extension(ACME_IDENTIFIER_OID, spec.critical ?? true, value));
  }
  const now = Date.now();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=ACME challenge',
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 86_400_000),
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    keys,
    extensions,
  });
  return {
    der: Buffer.from(certificate.rawData),
    certificatePem: certificate.toString('pem'),
    keyPem: privateKeyPem(await exportPrivateKeyPkcs8(keys.privateKey)),
  };
}

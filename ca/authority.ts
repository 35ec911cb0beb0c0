/**
 * Building the CA hierarchy: a self-signed root and an issuing intermediate (pathLen 0).
 * Clock and serial source are injected; keys are generated here and returned for sealing.
 */
import type { KeyAlgorithm } from '../core/types.js';
import { x509 } from './x509.js';
import { ALGORITHM_SPECS, generateKeyPair } from './keys.js';
import { canonicalizeDnsName } from '../core/names.js';
import { contextConstructed, contextPrimitive, sequence } from './der-writer.js';
import { CERTFLOW_POLICY_OID, type IssuerUrls } from './profiles.js';
import type { SerialSource } from './serial.js';

export interface CaKeyAndCertificate {
  certificate: x509.X509Certificate;
  keys: CryptoKeyPair;
  keyAlgorithm: KeyAlgorithm;
}

export interface CreateCaOptions {
  commonName: string;
  /**
   * Intermediates only: DNS zones the CA may issue for (a critical nameConstraints extension with
   * permitted dNSName subtrees). Omitted or empty: unconstrained.
   */
  permittedDnsZones?: string[];
  organization: string;
  keyAlgorithm: KeyAlgorithm;
  validityDays: number;
  now: Date;
  serial: SerialSource;
}

const CA_KEY_USAGE = x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign;
/** Issuing intermediates also sign OCSP responses themselves (RFC 6960 §4.2.2.2), hence digitalSignature. */
const INTERMEDIATE_KEY_USAGE = CA_KEY_USAGE | x509.KeyUsageFlags.digitalSignature;

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

/**
 * `parentUrls` are the parent's CRL and AIA locations, so relying parties that check the whole
 * chain can see a revoked intermediate. Leaves assert the Certflow policy, so the intermediate
 * carries it too (a valid policy path needs it at every level below the root).
 */
export async function createIntermediateCa(
  parent: { certificate: x509.X509Certificate; signingKey: CryptoKey; keyAlgorithm: KeyAlgorithm; urls?: IssuerUrls },
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
      new x509.KeyUsagesExtension(INTERMEDIATE_KEY_USAGE, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      authorityKeyIdentifier(parent.certificate),
      ...(parent.urls
        ? [
            new x509.CRLDistributionPointsExtension([parent.urls.crl], false),
            new x509.AuthorityInfoAccessExtension({ caIssuers: parent.urls.caIssuers, ocsp: parent.urls.ocsp }, false),
          ]
        : []),
      new x509.CertificatePolicyExtension([CERTFLOW_POLICY_OID], false),
      ...(options.permittedDnsZones?.length ? [nameConstraints(options.permittedDnsZones)] : []),
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

const NAME_CONSTRAINTS_OID = '2.5.29.30';
const DNS_NAME_TAG = 2;

/** NameConstraints { permittedSubtrees [0] { GeneralSubtree { base dNSName } … } }, critical (RFC 5280 §4.2.1.10). */
function nameConstraints(zones: string[]): x509.Extension {
  const subtrees = zones.map((zone) => sequence(contextPrimitive(DNS_NAME_TAG, Buffer.from(canonicalizeDnsName(zone), 'ascii'))));
  return new x509.Extension(NAME_CONSTRAINTS_OID, true, new Uint8Array(sequence(contextConstructed(0, ...subtrees))));
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

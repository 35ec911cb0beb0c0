/**
 * Building the CA hierarchy: a self-signed root and an issuing intermediate (pathLen 0).
 * Clock and serial source are injected. createRootCa / createIntermediateCa generate software keys and return them
 * for sealing; certifyRootKey / certifyIntermediateKey certify a key that exists already, behind a Signer (an HSM).
 */
import type { KeyAlgorithm } from '../core/types.js';
import { x509 } from './x509.js';
import { ALGORITHM_SPECS, generateKeyPair } from './keys.js';
import { canonicalizeDnsName } from '../core/names.js';
import { cidrMask, parseCidr } from '../core/ip.js';
import { children, parseDer } from './der-reader.js';
import { contextConstructed, contextPrimitive, sequence, signatureAlgorithmIdentifier, signStructure } from './der-writer.js';
import { CERTFLOW_POLICY_OID, type IssuerUrls } from './profiles.js';
import type { SerialSource } from './serial.js';
import type { Signer } from './signer.js';

export interface CaKeyAndCertificate {
  certificate: x509.X509Certificate;
  keys: CryptoKeyPair;
  keyAlgorithm: KeyAlgorithm;
}

export interface CreateCaOptions extends CaCertificateOptions {
  keyAlgorithm: KeyAlgorithm;
}

/** What a CA certificate says about its subject and validity (the key comes separately). */
export interface CaCertificateOptions {
  commonName: string;
  /**
   * Intermediates only: DNS zones the CA may issue for (a critical nameConstraints extension with
   * permitted dNSName subtrees). Omitted or empty: unconstrained.
   */
  permittedDnsZones?: string[];
  /**
   * Intermediates only: permitted uniformResourceIdentifier subtrees (RFC 5280 §4.2.1.10: the URI's
   * host; "example.com" is that host only, ".example.com" any host under it). A SPIFFE trust
   * domain is the host of its IDs, e.g. "prod" for spiffe://prod/…. Omitted or empty: URIs unconstrained.
   */
  permittedUriDomains?: string[];
  /** Intermediates only: permitted iPAddress subtrees, as CIDRs (IPv4 and IPv6). Omitted or empty: IPs unconstrained. */
  permittedIpRanges?: string[];
  organization: string;
  /** countryName (ISO 3166-1 alpha-2, core/country-codes.ts); omitted: none in the DN. */
  country?: string;
  validityDays: number;
  now: Date;
  serial: SerialSource;
}

const CA_KEY_USAGE = x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign;
/** Issuing intermediates also sign OCSP responses themselves (RFC 6960 §4.2.2.2), hence digitalSignature. */
const INTERMEDIATE_KEY_USAGE = CA_KEY_USAGE | x509.KeyUsageFlags.digitalSignature;

export async function createRootCa(options: CreateCaOptions): Promise<CaKeyAndCertificate> {
  const keys = await generateKeyPair(options.keyAlgorithm);
  const certificate = await x509.X509CertificateGenerator.create({
    ...(await rootFields(keys.publicKey, options)),
    signingAlgorithm: ALGORITHM_SPECS[options.keyAlgorithm].signing,
    signingKey: keys.privateKey,
  });
  return { certificate, keys, keyAlgorithm: options.keyAlgorithm };
}

/** The self-signed certificate of a root whose key is `key` (a software key or one in an HSM). */
export async function certifyRootKey(key: Signer, options: CaCertificateOptions): Promise<x509.X509Certificate> {
  return signedBy(key, await rootFields(new x509.PublicKey(Uint8Array.from(key.publicKeySpki)), options));
}

async function rootFields(publicKey: CryptoKey | x509.PublicKey, options: CaCertificateOptions): Promise<CertificateFields> {
  const name = distinguishedName(options);
  return {
    serialNumber: options.serial(),
    subject: name,
    issuer: name,
    notBefore: options.now,
    notAfter: addDays(options.now, options.validityDays),
    publicKey,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(CA_KEY_USAGE, true),
      await x509.SubjectKeyIdentifierExtension.create(publicKey),
    ],
  };
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
  const certificate = await x509.X509CertificateGenerator.create({
    ...(await intermediateFields(parent, keys.publicKey, options)),
    signingAlgorithm: ALGORITHM_SPECS[parent.keyAlgorithm].signing,
    signingKey: parent.signingKey,
  });
  return { certificate, keys, keyAlgorithm: options.keyAlgorithm };
}

/** The certificate of an intermediate whose key has the public key `subjectSpki`, signed by `parent.signer` (software or HSM). */
export async function certifyIntermediateKey(
  parent: { certificate: x509.X509Certificate; signer: Signer; urls?: IssuerUrls },
  subjectSpki: Uint8Array,
  options: CaCertificateOptions,
): Promise<x509.X509Certificate> {
  return signedBy(parent.signer, await intermediateFields(parent, new x509.PublicKey(Uint8Array.from(subjectSpki)), options));
}

async function intermediateFields(
  parent: { certificate: x509.X509Certificate; urls?: IssuerUrls },
  publicKey: CryptoKey | x509.PublicKey,
  options: CaCertificateOptions,
): Promise<CertificateFields> {
  return {
    serialNumber: options.serial(),
    subject: distinguishedName(options),
    issuer: parent.certificate.subjectName,
    notBefore: options.now,
    notAfter: earliest(addDays(options.now, options.validityDays), parent.certificate.notAfter),
    publicKey,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(INTERMEDIATE_KEY_USAGE, true),
      await x509.SubjectKeyIdentifierExtension.create(publicKey),
      authorityKeyIdentifier(parent.certificate),
      ...(parent.urls
        ? [
            new x509.CRLDistributionPointsExtension([parent.urls.crl], false),
            new x509.AuthorityInfoAccessExtension({ caIssuers: parent.urls.caIssuers, ocsp: parent.urls.ocsp }, false),
          ]
        : []),
      new x509.CertificatePolicyExtension([CERTFLOW_POLICY_OID], false),
      ...(hasNameConstraints(options) ? [nameConstraints(options)] : []),
    ],
  };
}

/** What a CA certificate says, apart from how it is signed. */
interface CertificateFields {
  serialNumber: string;
  subject: x509.JsonName | x509.Name;
  issuer: x509.JsonName | x509.Name;
  notBefore: Date;
  notAfter: Date;
  publicKey: CryptoKey | x509.PublicKey;
  extensions: x509.Extension[];
}

/**
 * @peculiar/x509 lays out the TBSCertificate (with a placeholder signature), the signer signs its exact bytes:
 * the key may sit in an HSM, out of WebCrypto's reach.
 */
async function signedBy(signer: Signer, fields: CertificateFields): Promise<x509.X509Certificate> {
  const unsigned = await x509.X509CertificateGenerator.create({ ...fields, signingAlgorithm: ALGORITHM_SPECS[signer.keyAlgorithm].signing, signature: PLACEHOLDER_SIGNATURE });
  const [tbs, signatureAlgorithm] = children(parseDer(new Uint8Array(unsigned.rawData), 'the certificate'));
  const expected = signatureAlgorithmIdentifier(signer.keyAlgorithm);
  // RFC 5280 §4.1.1.2: the signature field inside the TBS must equal the outer signatureAlgorithm we write.
  if (!tbs || !signatureAlgorithm?.raw.equals(expected) || !children(tbs)[2]?.raw.equals(expected)) {
    throw new Error(`the certificate template does not name the ${signer.keyAlgorithm} signature algorithm`);
  }
  return new x509.X509Certificate(new Uint8Array(await signStructure(tbs.raw, signer)));
}

/** Long enough for any placeholder r‖s (P-521 at most) or RSA signature value; never published. */
const PLACEHOLDER_SIGNATURE = new Uint8Array(132).fill(1);

/** AKI carrying only the issuer's key id (not issuer name + serial), as RFC 5280 §4.2.1.1 prefers. */
export function authorityKeyIdentifier(issuer: x509.X509Certificate): x509.AuthorityKeyIdentifierExtension {
  const ski = issuer.getExtension(x509.SubjectKeyIdentifierExtension);
  if (!ski) throw new Error(`issuer "${issuer.subject}" has no subject key identifier`);
  return new x509.AuthorityKeyIdentifierExtension(ski.keyId, false);
}

const NAME_CONSTRAINTS_OID = '2.5.29.30';
const DNS_NAME_TAG = 2;
const URI_TAG = 6;
const IP_ADDRESS_TAG = 7;
/** A host or, with a leading ".", a domain; single-label hosts are allowed (SPIFFE trust domains such as "prod"). */
const URI_DOMAIN = /^\.?[a-z0-9_-]+(?:\.[a-z0-9_-]+)*$/;

function hasNameConstraints(options: CaCertificateOptions): boolean {
  return Boolean(options.permittedDnsZones?.length || options.permittedUriDomains?.length || options.permittedIpRanges?.length);
}

/** The DER of a uniformResourceIdentifier subtree base: a lower-case host or ".domain". */
export function uriConstraintBase(domain: string): Buffer {
  const lower = domain.toLowerCase();
  if (!URI_DOMAIN.test(lower) || lower.length > 253) {
    throw new Error(`"${domain}" is not a URI name constraint: give a host ("payments.example.com", "prod") or a domain with a leading dot (".example.com")`);
  }
  return Buffer.from(lower, 'ascii');
}

/** The DER of an iPAddress subtree base: the network's octets followed by the mask's (RFC 5280 §4.2.1.10). */
export function ipConstraintBase(range: string): Buffer {
  const cidr = parseCidr(range);
  return Buffer.concat([Buffer.from(cidr.octets), Buffer.from(cidrMask(cidr))]);
}

/** NameConstraints { permittedSubtrees [0] { GeneralSubtree { base } … } } over dNSName, URI and iPAddress bases, critical (RFC 5280 §4.2.1.10). */
function nameConstraints(options: CaCertificateOptions): x509.Extension {
  const subtrees = [
    ...(options.permittedDnsZones ?? []).map((zone) => sequence(contextPrimitive(DNS_NAME_TAG, Buffer.from(canonicalizeDnsName(zone), 'ascii')))),
    ...(options.permittedUriDomains ?? []).map((domain) => sequence(contextPrimitive(URI_TAG, uriConstraintBase(domain)))),
    ...(options.permittedIpRanges ?? []).map((range) => sequence(contextPrimitive(IP_ADDRESS_TAG, ipConstraintBase(range)))),
  ];
  return new x509.Extension(NAME_CONSTRAINTS_OID, true, new Uint8Array(sequence(contextConstructed(0, ...subtrees))));
}

/** C (when given), O, CN: the order of most CA names; countryName is a PrintableString (RFC 5280 appendix A). */
function distinguishedName(options: CaCertificateOptions): x509.JsonName {
  const name: x509.JsonName = [{ O: [options.organization] }, { CN: [options.commonName] }];
  return options.country === undefined ? name : [{ C: [options.country] }, ...name];
}

function addDays(date: Date, days: number): Date {
  return new Date(date.getTime() + days * 86_400_000);
}

export function earliest(a: Date, b: Date): Date {
  return a.getTime() <= b.getTime() ? a : b;
}

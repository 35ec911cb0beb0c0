/**
 * The fast leaf builder. Everything that is the same for every leaf of one issuer, profile and
 * subject key algorithm (version, signatureAlgorithm, issuer Name, all extensions but
 * subjectAltName) is DER-encoded once; per certificate only the serial, validity, subject,
 * SubjectPublicKeyInfo and subjectAltName are encoded, and the result is signed. Content follows
 * profiles.ts exactly (test/support/reference-leaf.ts, the older @peculiar/x509 builder kept as a test oracle, predates it).
 *
 *   const templates = new LeafTemplates({ id, certificateDer, signer, urls });
 *   const der = await templates.build({ serial, commonName, dnsNames, ipAddresses, uris, profile,
 *     subjectPublicKeySpki, subjectKeyAlgorithm, notBefore, notAfter });
 *
 * It does not judge what it is given: run `lintLeaf` (lint.ts) first.
 */
import { KEY_ALGORITHMS, PROFILES, type KeyAlgorithm, type Profile } from '../core/types.js';
import { contextExplicit, signatureAlgorithmIdentifier, unsignedInteger } from './der-writer.js';
import { extensionsAfterSan, extensionsBeforeSan } from './leaf-extensions.js';
import { encodeCertificate, encodeLeafTbs } from './leaf-tbs.js';
import { certificateFacts } from './certificate-facts.js';
import type { IssuerUrls } from './profiles.js';
import type { Signer } from './signer.js';
import { x509 } from './x509.js';

export interface LeafIssuer {
  id: string;
  /** The issuing CA's certificate (DER); its subject becomes the leaf's issuer, byte for byte. */
  certificateDer: Uint8Array;
  /** The issuing CA's key; must be the key of `certificateDer`. */
  signer: Signer;
  urls: IssuerUrls;
}

export interface LeafFields {
  /** Hexadecimal serial number (serial.ts makes 16 random octets). */
  serial: string;
  /** Subject CN; null for an empty subject (the names are then only in a critical subjectAltName). */
  commonName: string | null;
  dnsNames: string[];
  /** Canonical text form (core/ip.ts `canonicalizeIp`). */
  ipAddresses: string[];
  uris: string[];
  profile: Profile;
  /** SubjectPublicKeyInfo (DER), copied into the certificate verbatim. */
  subjectPublicKeySpki: Uint8Array;
  subjectKeyAlgorithm: KeyAlgorithm;
  notBefore: Date;
  notAfter: Date;
}

const VERSION_V3 = contextExplicit(0, unsignedInteger(Uint8Array.of(2)));

export class LeafTemplates {
  readonly issuerId: string;
  readonly signer: Signer;
  /** Validity of the issuing CA: no leaf may outlive `issuerNotAfter`. */
  readonly issuerNotBefore: Date;
  readonly issuerNotAfter: Date;
  /** The issuer's signature AlgorithmIdentifier: in the TBSCertificate and again after it. */
  private readonly signatureAlgorithm: Buffer;
  /** signatureAlgorithm and issuer Name: adjacent in the TBSCertificate and the same for every leaf. */
  private readonly signatureAndIssuer: Buffer;
  private readonly afterSan: Buffer;
  private readonly beforeSan: Record<Profile, Record<KeyAlgorithm, Buffer>>;

  constructor(issuer: LeafIssuer) {
    const facts = certificateFacts(issuer.certificateDer);
    const certificate = new x509.X509Certificate(new Uint8Array(facts.der));
    if (!certificate.getExtension(x509.BasicConstraintsExtension)?.ca) {
      throw new Error(`issuer ${issuer.id} ("${certificate.subject}") is not a CA certificate`);
    }
    if (!facts.subjectKeyIdentifier) throw new Error(`issuer ${issuer.id} ("${certificate.subject}") has no subject key identifier`);
    if (!facts.spkiDer.equals(issuer.signer.publicKeySpki)) {
      throw new Error(`the signer given for issuer ${issuer.id} does not hold the key of its certificate ("${certificate.subject}")`);
    }
    this.issuerId = issuer.id;
    this.signer = issuer.signer;
    this.issuerNotBefore = certificate.notBefore;
    this.issuerNotAfter = certificate.notAfter;
    this.signatureAlgorithm = signatureAlgorithmIdentifier(issuer.signer.keyAlgorithm);
    this.signatureAndIssuer = Buffer.concat([this.signatureAlgorithm, facts.subjectDer]);
    this.afterSan = extensionsAfterSan(facts.subjectKeyIdentifier, issuer.urls);
    this.beforeSan = Object.fromEntries(
      PROFILES.map((profile) => [profile, Object.fromEntries(KEY_ALGORITHMS.map((algorithm) => [algorithm, extensionsBeforeSan(profile, algorithm)]))]),
    ) as Record<Profile, Record<KeyAlgorithm, Buffer>>;
  }

  /** The DER TBSCertificate for these fields. */
  buildTbs(fields: LeafFields): Buffer {
    const constant = {
      version: VERSION_V3,
      signatureAndIssuer: this.signatureAndIssuer,
      extensionsBeforeSan: this.beforeSan[fields.profile][fields.subjectKeyAlgorithm],
      extensionsAfterSan: this.afterSan,
    };
    return encodeLeafTbs(constant, fields);
  }

  /** The signed certificate (DER); what der-writer.ts `signStructure` makes, with one allocation instead of several. */
  async build(fields: LeafFields): Promise<Buffer> {
    const tbs = this.buildTbs(fields);
    return encodeCertificate(tbs, this.signatureAlgorithm, await this.signer.sign(tbs));
  }
}

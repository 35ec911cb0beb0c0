/**
 * Loads issuers for signing, once per process: a software key is decrypted and kept in memory as a node:crypto
 * KeyObject, a PKCS#11 key is found in the token (activities/ca-keys.ts); either way behind the Signer interface.
 * Keys never leave this module except as a Signer.
 */
import type { KeyEncryptionKeys } from '../ca/key-encryption.js';
import type { Pkcs11Token } from '../ca/pkcs11-token.js';
import { LeafTemplates } from '../ca/leaf-template.js';
import { issuerUrls } from '../ca/profiles.js';
import type { Signer } from '../ca/signer.js';
import { openCaKey } from './ca-keys.js';
import { certificateFacts } from '../ca/certificate-facts.js';
import { x509 } from '../ca/x509.js';
import type { Database } from '../db/database.js';
import { findIssuer, issuerChainPem, type IssuerRow } from '../db/issuers.js';

export interface LoadedIssuer {
  row: IssuerRow;
  certificate: x509.X509Certificate;
  /** The issuer's key behind the narrow Signer interface (software or PKCS#11, as the row says). */
  signer: Signer;
  /** The issuer's pre-encoded leaf templates: the fast signing path (ca/leaf-template.ts). */
  templates: LeafTemplates;
  /** PEM of the chain above the leaf: this issuer up to, not including, the root. */
  chainPem: string;
}

export type SignerWrapper = (signer: Signer, issuer: IssuerRow) => Signer;

export class IssuerStore {
  private readonly cache = new Map<string, Promise<LoadedIssuer>>();

  constructor(
    private readonly db: Database,
    private readonly kek: KeyEncryptionKeys,
    /** Base URL written into leaves as their CRL and AIA locations. */
    private readonly publicUrl: string,
    /** Wraps each issuer's signer (the fault suite's failing, logging signer); default: as is. */
    private readonly wrapSigner: SignerWrapper = (signer) => signer,
    /** The configured PKCS#11 token, for issuers whose key lives there. */
    private readonly hsm?: Pkcs11Token,
  ) {}

  load(issuerId: string): Promise<LoadedIssuer> {
    let loaded = this.cache.get(issuerId);
    if (!loaded) {
      loaded = this.loadUncached(issuerId);
      loaded.catch(() => this.cache.delete(issuerId));
      this.cache.set(issuerId, loaded);
    }
    return loaded;
  }

  private async loadUncached(issuerId: string): Promise<LoadedIssuer> {
    const row = await findIssuer(this.db, issuerId);
    if (!row) throw new Error(`issuer ${issuerId} does not exist`);
    const signer = this.wrapSigner(await openCaKey({ kek: this.kek, hsm: this.hsm }, row), row);
    const certificate = new x509.X509Certificate(row.certificatePem);
    if (!certificateFacts(row.certificatePem).spkiDer.equals(signer.publicKeySpki)) {
      throw new Error(`the key of issuer ${row.id} (${row.keyBackend}) is not the key its certificate certifies`);
    }
    return {
      row,
      certificate,
      templates: new LeafTemplates({ id: row.id, certificateDer: new Uint8Array(certificate.rawData), signer, urls: issuerUrls(this.publicUrl, row.id) }),
      signer,
      chainPem: await issuerChainPem(this.db, row.id),
    };
  }
}

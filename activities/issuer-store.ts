/**
 * Loads issuers for signing: decrypts the sealed key once per process and keeps it in memory as a
 * node:crypto KeyObject behind the Signer interface. Keys never leave this module except as a Signer.
 */
import { createPrivateKey } from 'node:crypto';
import { openPrivateKey, type KeyEncryptionKeys } from '../ca/key-encryption.js';
import { LeafTemplates } from '../ca/leaf-template.js';
import { issuerUrls } from '../ca/profiles.js';
import { softwareSigner, type Signer } from '../ca/signer.js';
import { x509 } from '../ca/x509.js';
import type { Database } from '../db/database.js';
import { findIssuer, issuerChainPem, type IssuerRow } from '../db/issuers.js';

export interface LoadedIssuer {
  row: IssuerRow;
  certificate: x509.X509Certificate;
  /** The issuer's key behind the narrow Signer interface (software today, PKCS#11 later). */
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
    const pkcs8 = openPrivateKey(this.kek, row.sealedPrivateKey, row.id);
    const signer = this.wrapSigner(softwareSigner(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }), row.keyAlgorithm), row);
    pkcs8.fill(0);
    const certificate = new x509.X509Certificate(row.certificatePem);
    return {
      row,
      certificate,
      templates: new LeafTemplates({ id: row.id, certificateDer: new Uint8Array(certificate.rawData), signer, urls: issuerUrls(this.publicUrl, row.id) }),
      signer,
      chainPem: await issuerChainPem(this.db, row.id),
    };
  }
}

/**
 * Loads issuers for signing: decrypts the sealed key once per process and keeps the imported,
 * non-extractable CryptoKey in memory. Keys never leave this module except as a signing handle.
 */
import { createPrivateKey } from 'node:crypto';
import { openPrivateKey } from '../ca/key-encryption.js';
import { importPrivateKeyPkcs8 } from '../ca/keys.js';
import type { IssuerForSigning } from '../ca/leaf.js';
import { LeafTemplates } from '../ca/leaf-template.js';
import { issuerUrls } from '../ca/profiles.js';
import { softwareSigner, type Signer } from '../ca/signer.js';
import { x509 } from '../ca/x509.js';
import type { Database } from '../db/database.js';
import { findIssuer, type IssuerRow } from '../db/issuers.js';

export interface LoadedIssuer extends IssuerForSigning {
  row: IssuerRow;
  /** The issuer's key behind the narrow Signer interface (software today, PKCS#11 later). */
  signer: Signer;
  /** The issuer's pre-encoded leaf templates: the fast signing path (ca/leaf-template.ts). */
  templates: LeafTemplates;
  /** PEM of the chain above the leaf: this issuer up to, not including, the root. */
  chainPem: string;
}

export class IssuerStore {
  private readonly cache = new Map<string, Promise<LoadedIssuer>>();

  constructor(
    private readonly db: Database,
    private readonly kek: Buffer,
    /** Base URL written into leaves as their CRL and AIA locations. */
    private readonly publicUrl: string,
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
    const signingKey = await importPrivateKeyPkcs8(pkcs8, row.keyAlgorithm);
    const signer = softwareSigner(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }), row.keyAlgorithm);
    pkcs8.fill(0);
    const certificate = new x509.X509Certificate(row.certificatePem);
    return {
      row,
      certificate,
      templates: new LeafTemplates({ id: row.id, certificateDer: new Uint8Array(certificate.rawData), signer, urls: issuerUrls(this.publicUrl, row.id) }),
      signingKey,
      signer,
      keyAlgorithm: row.keyAlgorithm,
      chainPem: await this.chainPem(row),
    };
  }

  private async chainPem(row: IssuerRow): Promise<string> {
    const chain: string[] = [];
    let current: IssuerRow | null = row;
    while (current && current.kind !== 'root') {
      chain.push(current.certificatePem.trim());
      current = current.parentId ? await findIssuer(this.db, current.parentId) : null;
    }
    return `${chain.join('\n')}\n`;
  }
}

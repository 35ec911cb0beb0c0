/**
 * An ACME client in the test process: it drives Certflow's ACME API without TLS through
 * `acmeRoot(deps).request('https://…/acme/…')` (as acme-hostile.test.ts does), signing with
 * test/support/acme-jws.ts. For teams whose policy has `acme: {preauthorized: true}`: orders are
 * ready at once, so register (EAB), order (optionally with RFC 9773 `replaces`), finalize with a
 * fresh key's CSR and download is the whole protocol. Used by the integration tests and by
 * scripts/record-histories.ts, so it imports nothing of vitest.
 */
import { webcrypto } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { acmeRoot } from '../../api/acme/app.js';
import type { AcmeDeps } from '../../api/acme/context.js';
import type { createApp } from '../../api/app.js';
import { x509 } from '../../ca/x509.js';
import { formatAriCertId } from '../../core/ari.js';
import type { Database } from '../../db/database.js';
import { certificateVersions } from '../../db/schema.js';
import { externalAccountBinding, newAcmeKey, signJws, type AcmeKey } from './acme-jws.js';

/** The origin the in-process ACME server is asked under (no listener: the URL only names the resource). */
export const ACME_TEST_ORIGIN = 'https://acme.certflow.test';

export interface AcmeOrder {
  url: string;
  status: string;
  finalize: string;
  certificate?: string;
  error?: { type: string; detail: string };
}

/** A certificate the client obtained: the leaf, the chain after it, and the order it came from. */
export interface ObtainedCertificate {
  leafPem: string;
  chainPem: string;
  orderUrl: string;
}

export class InProcessAcmeClient {
  private constructor(
    readonly acme: ReturnType<typeof acmeRoot>,
    readonly key: AcmeKey,
    readonly accountUrl: string,
    readonly origin: string,
  ) {}

  /**
   * Registers an account bound to `teamId` with an EAB key made through the REST API (`rest` must be
   * built with `deps.acme`; `token` a team admin's or the platform admin's).
   */
  static async register(options: { deps: AcmeDeps; rest: Pick<ReturnType<typeof createApp>, 'request'>; teamId: string; token: string; origin?: string }): Promise<InProcessAcmeClient> {
    const origin = options.origin ?? ACME_TEST_ORIGIN;
    const eabResponse = await options.rest.request(`/v1/teams/${options.teamId}/acme-eab-keys`, { method: 'POST', headers: { Authorization: `Bearer ${options.token}` } });
    if (eabResponse.status !== 201) throw new Error(`making an EAB key: ${eabResponse.status} ${await eabResponse.text()}`);
    const eab = (await eabResponse.json()) as { keyId: string; hmacKey: string };
    const acme = acmeRoot(options.deps, (message, error) => console.error(message, error));
    const key = await newAcmeKey('ES256');
    const url = `${origin}/acme/new-account`;
    const nonce = await newNonce(acme, origin);
    const jws = await signJws(key, { nonce, url, jwk: key.jwk }, { termsOfServiceAgreed: true, externalAccountBinding: externalAccountBinding(key, eab, url) });
    const response = await acme.request(url, { method: 'POST', headers: { 'content-type': 'application/jose+json' }, body: JSON.stringify(jws) });
    if (response.status !== 201) throw new Error(`newAccount: ${response.status} ${await response.text()}`);
    return new InProcessAcmeClient(acme, key, response.headers.get('location')!, origin);
  }

  /** A kid-signed POST to `url` (a full URL under the origin); '' is POST-as-GET. */
  async post(url: string, payload: unknown): Promise<Response> {
    const jws = await signJws(this.key, { nonce: await newNonce(this.acme, this.origin), url, kid: this.accountUrl }, payload);
    return this.acme.request(url, { method: 'POST', headers: { 'content-type': 'application/jose+json' }, body: JSON.stringify(jws) });
  }

  /** An unsigned GET (renewal information and its explanation). */
  async get(path: string): Promise<Response> {
    return this.acme.request(`${this.origin}${path}`);
  }

  /** newOrder for DNS names, naming the certificate it replaces (its RFC 9773 certID) if given: the raw answer. */
  newOrder(names: readonly string[], replaces?: string): Promise<Response> {
    const payload = { identifiers: names.map((value) => ({ type: 'dns', value })), ...(replaces !== undefined ? { replaces } : {}) };
    return this.post(`${this.origin}/acme/new-order`, payload);
  }

  /** newOrder that must succeed. */
  async order(names: readonly string[], replaces?: string): Promise<AcmeOrder> {
    const response = await this.newOrder(names, replaces);
    if (response.status !== 201) throw new Error(`newOrder: ${response.status} ${await response.text()}`);
    return { ...((await response.json()) as Omit<AcmeOrder, 'url'>), url: response.headers.get('location')! };
  }

  /** Finalizes a ready order with a CSR for `names` and a new P-256 key, then polls it until it is valid (the lifecycle has signed it). */
  async finalize(order: AcmeOrder, names: readonly string[], timeoutMs = 60_000): Promise<AcmeOrder> {
    const csr = await csrDer(names);
    const response = await this.post(order.finalize, { csr: Buffer.from(csr).toString('base64url') });
    if (response.status !== 200) throw new Error(`finalize: ${response.status} ${await response.text()}`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const polled = await this.post(order.url, '');
      const current = { ...((await polled.json()) as Omit<AcmeOrder, 'url'>), url: order.url };
      if (current.status === 'valid') return current;
      if (current.status === 'invalid') throw new Error(`the order became invalid: ${JSON.stringify(current.error)}`);
      if (Date.now() > deadline) throw new Error(`order ${order.url} still ${current.status} after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** Orders, finalizes and downloads a certificate for `names` (a renewal when `replaces` names the old one). */
  async obtain(names: readonly string[], options: { replaces?: string; timeoutMs?: number } = {}): Promise<ObtainedCertificate> {
    const valid = await this.finalize(await this.order(names, options.replaces), names, options.timeoutMs);
    const download = await this.post(valid.certificate!, '');
    if (download.status !== 200) throw new Error(`certificate download: ${download.status} ${await download.text()}`);
    const pem = await download.text();
    const end = pem.indexOf('-----END CERTIFICATE-----') + '-----END CERTIFICATE-----'.length;
    return { leafPem: `${pem.slice(0, end)}\n`, chainPem: pem.slice(end).trimStart(), orderUrl: valid.url };
  }
}

async function newNonce(acme: ReturnType<typeof acmeRoot>, origin: string): Promise<string> {
  const response = await acme.request(`${origin}/acme/new-nonce`, { method: 'HEAD' });
  const nonce = response.headers.get('replay-nonce');
  if (!nonce) throw new Error(`new-nonce gave no nonce (${response.status})`);
  return nonce;
}

/** A PKCS#10 request for `names` (SANs, no subject) with a new P-256 key, DER. */
async function csrDer(names: readonly string[]): Promise<ArrayBuffer> {
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(algorithm, false, ['sign', 'verify'])) as CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    keys,
    signingAlgorithm: algorithm,
    extensions: [new x509.SubjectAlternativeNameExtension(names.map((value) => ({ type: 'dns' as const, value })))],
  });
  return csr.rawData;
}

/** The RFC 9773 certID of a leaf: its AKI keyIdentifier and its serial (core/ari.ts formatAriCertId). */
export function ariCertIdOf(leafPem: string): string {
  const leaf = new x509.X509Certificate(leafPem);
  const aki = leaf.getExtension(x509.AuthorityKeyIdentifierExtension);
  if (!aki?.keyId) throw new Error('the leaf has no Authority Key Identifier keyIdentifier');
  return formatAriCertId({ keyIdentifierHex: aki.keyId, serialHex: leaf.serialNumber });
}

/** The Certflow version a leaf is: its certificate id and generation. */
export async function versionOfLeaf(db: Database, leafPem: string): Promise<{ certificateId: string; generation: number; id: string }> {
  const fingerprint = Buffer.from(await webcrypto.subtle.digest('SHA-256', new x509.X509Certificate(leafPem).rawData)).toString('hex');
  const [version] = await db.select().from(certificateVersions).where(eq(certificateVersions.fingerprintSha256, fingerprint));
  if (!version) throw new Error('Certflow has no version with that certificate');
  return { certificateId: version.certificateId, generation: version.generation, id: version.id };
}

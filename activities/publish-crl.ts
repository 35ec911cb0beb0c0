/**
 * publishCrl: signs the next CRL of an issuer from the current database state and stores it with a
 * higher CRL number (db/revocation.ts publishNextCrl). Idempotent in effect: every call publishes a
 * complete, current CRL; calling it again only publishes a newer one.
 */
import { buildCrl, DEFAULT_CRL_VALIDITY_SECONDS, type RevokedEntry } from '../ca/crl.js';
import { certificateFacts } from '../ca/certificate-facts.js';
import { listChildIssuers, listPublishingIssuers as listIssuersThatPublish, listRevokedVersions, publishNextCrl } from '../db/revocation.js';
import type { ActivityDeps } from './deps.js';

export interface PublishCrlInput {
  issuerId: string;
  /** thisUpdate → nextUpdate; default DEFAULT_CRL_VALIDITY_SECONDS (24 h). */
  validitySeconds?: number;
}

export interface PublishCrlResult {
  issuerId: string;
  /** Decimal string: CRL numbers may outgrow a JavaScript number. */
  crlNumber: string;
  thisUpdate: string;
  nextUpdate: string;
  entryCount: number;
}

export async function publishCrl(deps: ActivityDeps, input: PublishCrlInput): Promise<PublishCrlResult> {
  const issuer = await deps.issuers.load(input.issuerId);
  const validityMs = (input.validitySeconds ?? DEFAULT_CRL_VALIDITY_SECONDS) * 1000;
  const stored = await publishNextCrl(deps.db, input.issuerId, async (tx, crlNumber, previous) => {
    // Whole seconds (what the DER carries), and never before the previous CRL's thisUpdate.
    const now = new Date(Math.floor(deps.now().getTime() / 1000) * 1000);
    const thisUpdate = previous && previous.thisUpdate.getTime() > now.getTime() ? previous.thisUpdate : now;
    const nextUpdate = new Date(thisUpdate.getTime() + validityMs);
    const revoked: RevokedEntry[] = [...(await listRevokedVersions(tx, input.issuerId, thisUpdate))];
    // A root's CRL also lists the intermediates it revoked.
    for (const child of await listChildIssuers(tx, input.issuerId)) {
      if (child.status !== 'revoked' || child.notAfter.getTime() <= thisUpdate.getTime()) continue;
      revoked.push({ serial: certificateFacts(child.certificatePem).serial, revokedAt: child.revokedAt ?? thisUpdate, reason: child.revocationReason ?? 'unspecified' });
    }
    const der = await buildCrl({ certificate: issuer.row.certificatePem, signer: issuer.signer }, { crlNumber, thisUpdate, nextUpdate, revoked });
    return { der, thisUpdate, nextUpdate, entryCount: revoked.length };
  }, deps.now());
  return {
    issuerId: input.issuerId,
    crlNumber: stored.crlNumber.toString(),
    thisUpdate: stored.thisUpdate.toISOString(),
    nextUpdate: stored.nextUpdate.toISOString(),
    entryCount: stored.entryCount,
  };
}

/** Ids of the issuers that publish CRLs and OCSP responses: neither revoked nor expired. */
export async function listPublishingIssuers(deps: ActivityDeps): Promise<string[]> {
  return (await listIssuersThatPublish(deps.db, deps.now())).map((issuer) => issuer.id);
}

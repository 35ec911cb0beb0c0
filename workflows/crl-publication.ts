/**
 * crlPublication — started by the Temporal Schedule `crl-publication` (cmd/start-worker.ts), hourly
 * and once at worker start-up. For every issuer that publishes (not revoked, not expired): sign and
 * store a new CRL, and re-sign the OCSP responses that are missing, out of date or about to expire.
 * One issuer failing does not stop the others; the run fails at the end so the schedule shows it.
 */
import { ApplicationFailure, log, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';

const { listPublishingIssuers, publishCrl } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 5 },
});
const { refreshOcspResponses } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 5 },
});

/** Bounds the OCSP refresh loop of one run (batches of OCSP_REFRESH_BATCH); the next run continues. */
const MAX_OCSP_BATCHES_PER_ISSUER = 200;

export interface CrlPublicationResult {
  issuers: Array<{ issuerId: string; crlNumber: string | null; ocspSigned: number; error: string | null }>;
}

export async function crlPublication(): Promise<CrlPublicationResult> {
  const result: CrlPublicationResult = { issuers: [] };
  for (const issuerId of await listPublishingIssuers()) {
    const outcome = { issuerId, crlNumber: null as string | null, ocspSigned: 0, error: null as string | null };
    result.issuers.push(outcome);
    try {
      outcome.crlNumber = (await publishCrl({ issuerId })).crlNumber;
      for (let batch = 0; batch < MAX_OCSP_BATCHES_PER_ISSUER; batch++) {
        const refreshed = await refreshOcspResponses({ issuerId });
        outcome.ocspSigned += refreshed.signed;
        if (!refreshed.more) break;
      }
    } catch (error) {
      outcome.error = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
      log.error('publishing revocation information failed', { issuerId, error: outcome.error });
    }
  }
  const failed = result.issuers.filter((issuer) => issuer.error !== null);
  if (failed.length > 0) {
    throw ApplicationFailure.nonRetryable(`publishing failed for ${failed.map((issuer) => issuer.issuerId).join(', ')}`, 'CrlPublicationFailed', result);
  }
  return result;
}

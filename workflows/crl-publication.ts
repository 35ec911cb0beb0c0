/**
 * crlPublication — started by the Temporal Schedule `crl-publication` (cmd/start-worker.ts), hourly
 * and once at worker start-up. For every issuer that publishes (not revoked, not expired): sign and
 * store a new CRL, and re-sign the OCSP responses that are missing, out of date or about to expire.
 *
 * Infrastructure failures never fail it: each issuer's publication is retried (in rounds, so one
 * issuer failing does not hold the others up) with a capped backoff until it is done, or until the
 * run's slot is over and the next scheduled run carries on. Only a business error fails the run,
 * at the end, so the schedule shows it.
 */
import { ApplicationFailure, isCancellation, log, proxyActivities, sleep } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { isRetriedUntilDone, untilDoneBackoffMs } from '../core/until-done.js';
import { UNTIL_DONE_PRESETS } from './activity-options.js';
import { describeStepFailure } from './until-done.js';

const { listPublishingIssuers, publishCrl } = proxyActivities<Activities>(UNTIL_DONE_PRESETS.records);
const { refreshOcspResponses } = proxyActivities<Activities>(UNTIL_DONE_PRESETS.publication);

/** Bounds the OCSP refresh loop of one run (batches of OCSP_REFRESH_BATCH); the next run continues. */
const MAX_OCSP_BATCHES_PER_ISSUER = 200;
/**
 * How long a run keeps retrying: the schedule gives a run 30 minutes and starts the next one hourly,
 * so a run stops a little before it would be timed out and ends with what it could not publish.
 */
const RETRY_FOR_MS = 25 * 60_000;

export interface IssuerPublication {
  issuerId: string;
  crlNumber: string | null;
  ocspSigned: number;
  /** The last failure; null once published. */
  error: string | null;
  /** `done`, `failed` (a business error) or `deferred` (still failing when the run's slot ended). */
  state: 'pending' | 'done' | 'failed' | 'deferred';
}

export interface CrlPublicationResult {
  issuers: IssuerPublication[];
  /** Set when even the list of issuers could not be read within the run's slot. */
  error?: string;
}

export async function crlPublication(): Promise<CrlPublicationResult> {
  const giveUpAt = Date.now() + RETRY_FOR_MS;
  const result: CrlPublicationResult = { issuers: [] };

  let issuerIds: string[] | null = null;
  for (let attempt = 1; issuerIds === null; attempt++) {
    try {
      issuerIds = await listPublishingIssuers();
    } catch (error) {
      if (isCancellation(error)) throw error;
      const failure = describeStepFailure('list-issuers', error, attempt);
      log.warn('listing the publishing issuers failed; retrying', { ...failure });
      if (!isRetriedUntilDone(failure.type) || Date.now() + untilDoneBackoffMs(attempt) > giveUpAt) {
        return { ...result, error: `${failure.type}: ${failure.message}` };
      }
      await sleep(untilDoneBackoffMs(attempt));
    }
  }

  result.issuers = issuerIds.map((issuerId) => ({ issuerId, crlNumber: null, ocspSigned: 0, error: null, state: 'pending' }));
  for (let round = 1; ; round++) {
    for (const issuer of result.issuers.filter((entry) => entry.state === 'pending')) {
      try {
        await publishIssuer(issuer);
        issuer.state = 'done';
        issuer.error = null;
      } catch (error) {
        if (isCancellation(error)) throw error;
        const failure = describeStepFailure('publish', error, round);
        issuer.error = `${failure.type}: ${failure.message}`;
        if (!isRetriedUntilDone(failure.type)) issuer.state = 'failed';
        log.warn('publishing revocation information failed', { issuerId: issuer.issuerId, ...failure });
      }
    }
    const pending = result.issuers.filter((entry) => entry.state === 'pending');
    if (pending.length === 0) break;
    if (Date.now() + untilDoneBackoffMs(round) > giveUpAt) {
      for (const issuer of pending) issuer.state = 'deferred';
      log.warn('revocation information left to the next scheduled run', { issuerIds: pending.map((issuer) => issuer.issuerId) });
      break;
    }
    await sleep(untilDoneBackoffMs(round));
  }

  const failed = result.issuers.filter((issuer) => issuer.state === 'failed');
  if (failed.length > 0) {
    throw ApplicationFailure.nonRetryable(`publishing failed for ${failed.map((issuer) => issuer.issuerId).join(', ')}`, 'CrlPublicationFailed', result);
  }
  return result;
}

/** The issuer's CRL (once per run), then its OCSP responses in batches. */
async function publishIssuer(issuer: IssuerPublication): Promise<void> {
  issuer.crlNumber ??= (await publishCrl({ issuerId: issuer.issuerId })).crlNumber;
  for (let batch = 0; batch < MAX_OCSP_BATCHES_PER_ISSUER; batch++) {
    const refreshed = await refreshOcspResponses({ issuerId: issuer.issuerId });
    issuer.ocspSigned += refreshed.signed;
    if (!refreshed.more) break;
  }
}

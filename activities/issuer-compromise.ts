/**
 * Side effects of the issuerCompromise workflow, each idempotent on the issuer (and the drill run):
 * mark the intermediate compromised, open the drill's bulk operation, revoke the intermediate and
 * publish the revocation, build and store the report. The successor is made in
 * successor-intermediate.ts.
 */
import { ApplicationFailure } from '@temporalio/common';
import { EMPTY_COUNTS, mayRevokeSuperseded, type BulkCounts, type BulkOptions, type BulkOutcome, type BulkSelector } from '../core/bulk.js';
import { BUSINESS_ERROR_TYPES } from '../core/errors.js';
import { REPORT_LIST_LIMIT, type CompromiseReport, type CompromiseTimings, type FailedCertificate, type ReplacedCertificate } from '../core/issuer-compromise.js';
import { certificateFacts } from '../ca/certificate-facts.js';
import { appendAuditEvent } from '../db/audit.js';
import {
  COMPROMISE_REPORT_ACTION,
  derivedId,
  findAuditEventAt,
  insertBulkOperationOnce,
  listCertificatesStillOnIssuer,
  listCompromiseItems,
  markCompromised,
  revokeIssuerRow,
} from '../db/issuer-compromise.js';
import type { ActivityDeps } from './deps.js';
import { publishCrl } from './publish-crl.js';
import { refreshOcspResponses } from './publish-ocsp.js';

export interface MarkCompromisedInput {
  issuerId: string;
  reason: string;
  actor: string;
}

export interface MarkCompromisedResult {
  /** When the issuer was first marked (a retry or a second drill run answers the first time). */
  markedAt: string;
  rootId: string;
}

/** active (or retiring) → compromised: from now on no new certificate is signed by it. */
export async function markIssuerCompromised(deps: ActivityDeps, input: MarkCompromisedInput): Promise<MarkCompromisedResult> {
  const row = await markCompromised(deps.db, input.issuerId);
  if (!row) throw ApplicationFailure.nonRetryable(`issuer ${input.issuerId} does not exist`, BUSINESS_ERROR_TYPES.invalidRequest);
  if (row.kind !== 'intermediate' || !row.parentId) {
    throw ApplicationFailure.nonRetryable(`issuer ${input.issuerId} is a ${row.kind}; the drill replaces intermediates only`, BUSINESS_ERROR_TYPES.invalidRequest);
  }
  if (row.status !== 'compromised') {
    throw ApplicationFailure.nonRetryable(`issuer ${input.issuerId} is ${row.status}; only an active intermediate can be marked compromised`, BUSINESS_ERROR_TYPES.invalidRequest);
  }
  const dedupeKey = `issuer-compromised/${input.issuerId}`;
  await appendAuditEvent(deps.db, {
    at: deps.now(),
    actor: input.actor,
    action: 'issuer.compromised',
    details: { issuerId: input.issuerId, reason: input.reason },
    dedupeKey,
  });
  const markedAt = (await findAuditEventAt(deps.db, dedupeKey)) ?? deps.now();
  return { markedAt: markedAt.toISOString(), rootId: row.parentId };
}

export interface OpenCompromiseBulkInput {
  issuerId: string;
  /** The drill run's id: one bulk operation per run, the same one on a retry. */
  drillRunId: string;
  selector: BulkSelector;
  options: BulkOptions;
  createdBy: string;
}

/** Creates the bulk_operations row the bulkReissue child needs before it starts; returns its id. */
export async function openCompromiseBulk(deps: ActivityDeps, input: OpenCompromiseBulkInput): Promise<{ bulkId: string }> {
  const bulkId = derivedId('blk', `issuer-compromise:${input.issuerId}:${input.drillRunId}`);
  await insertBulkOperationOnce(deps.db, {
    id: bulkId,
    selector: input.selector,
    options: input.options,
    state: 'running',
    counts: { ...EMPTY_COUNTS },
    workflowId: `bulk/${bulkId}`,
    createdBy: input.createdBy,
  });
  await appendAuditEvent(deps.db, {
    at: deps.now(),
    actor: input.createdBy,
    action: 'bulk.started',
    details: { bulkId, workflowId: `bulk/${bulkId}`, selector: input.selector, options: input.options, issuerCompromise: input.issuerId },
    dedupeKey: `bulk-started/${bulkId}`,
  });
  return { bulkId };
}

export interface RevokeIssuerResult {
  revokedAt: string;
  /** CRLs published: the root's (listing the intermediate) and the intermediate's last one. */
  crls: { issuerId: string; crlNumber: string }[];
}

/**
 * Revokes the intermediate (keyCompromise), then publishes: the root's CRL, which now lists it; the
 * intermediate's final CRL, with the superseded leaves the reissue revoked; the root's OCSP
 * response for it. A retry publishes again with higher CRL numbers, which is harmless.
 */
export async function revokeCompromisedIssuer(deps: ActivityDeps, input: { issuerId: string; actor: string }): Promise<RevokeIssuerResult> {
  const row = await revokeIssuerRow(deps.db, input.issuerId, 'keyCompromise', deps.now());
  if (!row || !row.parentId) throw ApplicationFailure.nonRetryable(`issuer ${input.issuerId} is not an intermediate`, BUSINESS_ERROR_TYPES.invalidRequest);
  const revokedAt = row.revokedAt ?? deps.now();
  const rootCrl = await publishCrl(deps, { issuerId: row.parentId });
  const finalCrl = await publishCrl(deps, { issuerId: row.id });
  await refreshOcspResponses(deps, { issuerId: row.parentId, serials: [certificateFacts(row.certificatePem).serial] });
  await appendAuditEvent(deps.db, {
    at: revokedAt,
    actor: input.actor,
    action: 'issuer.revoked',
    details: { issuerId: row.id, reason: 'keyCompromise', rootCrlNumber: rootCrl.crlNumber, finalCrlNumber: finalCrl.crlNumber },
    dedupeKey: `issuer-revoked/${row.id}`,
  });
  return {
    revokedAt: revokedAt.toISOString(),
    crls: [
      { issuerId: rootCrl.issuerId, crlNumber: rootCrl.crlNumber },
      { issuerId: finalCrl.issuerId, crlNumber: finalCrl.crlNumber },
    ],
  };
}

export interface BuildReportInput {
  issuerId: string;
  successorId: string;
  bulkId: string;
  reason: string;
  actor: string;
  outcome: CompromiseReport['outcome'];
  bulkCounts: BulkCounts;
  crls: CompromiseReport['crls'];
  timings: CompromiseTimings;
}

/**
 * What was replaced, what failed and why (bulk outcomes, and certificates still signed by the
 * compromised intermediate that the bulk operation did not reach), with timings. Stored in full as
 * the audit event `issuer.compromise_report`; returned with its lists capped at REPORT_LIST_LIMIT.
 */
export async function buildCompromiseReport(deps: ActivityDeps, input: BuildReportInput): Promise<CompromiseReport> {
  const items = await listCompromiseItems(deps.db, input.bulkId);
  const replaced: ReplacedCertificate[] = [];
  const failed: FailedCertificate[] = [];
  for (const item of items) {
    if (item.outcome && mayRevokeSuperseded(item.outcome as BulkOutcome)) {
      replaced.push({
        certificateId: item.certificateId,
        oldSerial: item.oldSerial,
        newSerial: item.newSerial,
        newIssuerId: item.newIssuerId,
        outcome: item.outcome,
        oldRevoked: item.revokedAt !== null,
      });
    } else {
      failed.push({ certificateId: item.certificateId, reason: failureReason(item.outcome, item.reason) });
    }
  }
  const listed = new Set(items.map((item) => item.certificateId));
  const stillOnOld = await listCertificatesStillOnIssuer(deps.db, input.issuerId);
  for (const certificate of stillOnOld) {
    const entry = failed.find((failure) => failure.certificateId === certificate.certificateId);
    const note = `its current version (serial ${certificate.serial}) is still signed by the compromised intermediate`;
    if (entry) entry.reason = `${entry.reason}; ${note}`;
    else if (!listed.has(certificate.certificateId)) failed.push({ certificateId: certificate.certificateId, reason: `not reached by the bulk operation (issued while the drill ran?): ${note}` });
  }
  const report: CompromiseReport = {
    issuerId: input.issuerId,
    successorId: input.successorId,
    bulkId: input.bulkId,
    reason: input.reason,
    outcome: input.outcome,
    counts: { ...input.bulkCounts, replaced: replaced.length, failedOrRemaining: failed.length },
    replaced,
    failed,
    truncated: false,
    crls: input.crls,
    timings: input.timings,
  };
  await appendAuditEvent(deps.db, {
    at: new Date(input.timings.finishedAt),
    actor: input.actor,
    action: COMPROMISE_REPORT_ACTION,
    details: { ...report },
    dedupeKey: `issuer-compromise-report/${input.bulkId}`,
  });
  const truncated = replaced.length > REPORT_LIST_LIMIT || failed.length > REPORT_LIST_LIMIT;
  return truncated ? { ...report, replaced: replaced.slice(0, REPORT_LIST_LIMIT), failed: failed.slice(0, REPORT_LIST_LIMIT), truncated } : report;
}

function failureReason(outcome: string | null, reason: string | null): string {
  if (outcome === null) return 'no outcome: the bulk operation ended before this renewal reported back';
  return reason ? `${outcome}: ${reason}` : outcome;
}

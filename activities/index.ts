/** The activity object registered on the worker: each activity closes over its dependencies. */
import {
  escalateApproval,
  openApproval,
  recordApprovalDecision,
  type EscalateApprovalInput,
  type OpenApprovalInput,
  type RecordApprovalDecisionInput,
} from './approvals.js';
import { markRenewalOverdue, requestClientRenewal, type RequestClientRenewalInput } from './acme-client-renewal.js';
import { validateAcmeChallenge, withAcmeValidation, type ValidateAcmeChallengeInput } from './acme-challenge.js';
import { checkpointAudit } from './audit-checkpoint.js';
import { awaitAgentCsr, type AwaitAgentCsrInput } from './await-agent-csr.js';
import {
  checkStalledBulkItems,
  collectBulkOutcomes,
  countBulkSelection,
  type recordBulkOutcome,
  recordBulkProgress,
  revokeBulkSuperseded,
  selectBulkPage,
  sendBulkRenewals,
} from './bulk.js';
import type { ActivityDeps } from './deps.js';
import { deliverVersion, type DeliverVersionInput } from './deliver-version.js';
import { issueCertificate, type IssueCertificateInput } from './issue-certificate.js';
import { buildCompromiseReport, markIssuerCompromised, openCompromiseBulk, revokeCompromisedIssuer } from './issuer-compromise.js';
import { listPublishingIssuers, publishCrl, type PublishCrlInput } from './publish-crl.js';
import { refreshOcspResponses, type RefreshOcspInput } from './publish-ocsp.js';
import { revokeCertificate, type RevokeCertificateInput } from './revoke-certificate.js';
import { createSuccessorIntermediate, type CreateSuccessorInput } from './successor-intermediate.js';
import { reportRolloutFailed, reportRolloutRecovered, type RolloutReportInput } from './rollout-report.js';
import { verifyServed, type VerifyServedInput } from './verify-served.js';
import { observeCrlPublication, observeIssuance } from './observed.js';
import { deliverNotifications } from './notification-delivery.js';
import { scanEndpoint, type ScanEndpointInput } from './inventory-scan.js';
import { sweepInventoryPage, type SweepPageInput } from './inventory-sweep.js';
import { reportRenewalFailing, type RenewalFailingInput } from './renewal-failing.js';
import { trackFailures } from './failure-tracking.js';
import { GroupCommit } from './group-commit.js';
import { recordBulkOutcomes } from '../db/bulk.js';

/** Every activity's failures are counted into error groups (activities/failure-tracking.ts). */
export function createActivities(deps: ActivityDeps) {
  return trackFailures(deps, activityFunctions(deps));
}

function activityFunctions(deps: ActivityDeps) {
  const acmeValidationDeps = withAcmeValidation(deps);
  // The renewals of a bulk operation record their outcomes together (activities/group-commit.ts).
  const bulkOutcomes = new GroupCommit<Parameters<typeof recordBulkOutcome>[1]['report']>((bulkId, reports) => recordBulkOutcomes(deps.db, bulkId, reports));
  return {
    requestClientRenewal: (input: RequestClientRenewalInput) => requestClientRenewal(deps, input),
    markRenewalOverdue: (input: { certificateId: string }) => markRenewalOverdue(deps, input),
    validateAcmeChallenge: (input: ValidateAcmeChallengeInput) => validateAcmeChallenge(acmeValidationDeps, input),
    issueCertificate: (input: IssueCertificateInput) => observeIssuance(deps.metrics, input.generation, () => issueCertificate(deps, input)),
    /** Runs started before rollouts existed (replayed histories) still call it. */
    deliverVersion: (input: DeliverVersionInput) => deliverVersion(deps, input),
    verifyServed: (input: VerifyServedInput) => verifyServed(deps, input),
    awaitAgentCsr: (input: AwaitAgentCsrInput) => awaitAgentCsr(deps, input),
    reportRolloutFailed: (input: RolloutReportInput) => reportRolloutFailed(deps, input),
    reportRolloutRecovered: (input: Omit<RolloutReportInput, 'failures' | 'previousVersionId'>) => reportRolloutRecovered(deps, input),
    openApproval: (input: OpenApprovalInput) => openApproval(deps, input),
    escalateApproval: (input: EscalateApprovalInput) => escalateApproval(deps, input),
    recordApprovalDecision: (input: RecordApprovalDecisionInput) => recordApprovalDecision(deps, input),
    revokeCertificate: (input: RevokeCertificateInput) => revokeCertificate(deps, input),
    countBulkSelection: (input: Parameters<typeof countBulkSelection>[1]) => countBulkSelection(deps, input),
    selectBulkPage: (input: Parameters<typeof selectBulkPage>[1]) => selectBulkPage(deps, input),
    sendBulkRenewals: (input: Parameters<typeof sendBulkRenewals>[1]) => sendBulkRenewals(deps, input),
    recordBulkProgress: (input: Parameters<typeof recordBulkProgress>[1]) => recordBulkProgress(deps, input),
    recordBulkOutcome: (input: Parameters<typeof recordBulkOutcome>[1]) => bulkOutcomes.add(input.bulkId, input.report),
    collectBulkOutcomes: (input: Parameters<typeof collectBulkOutcomes>[1]) => collectBulkOutcomes(deps, input),
    checkStalledBulkItems: (input: Parameters<typeof checkStalledBulkItems>[1]) => checkStalledBulkItems(deps, input),
    revokeBulkSuperseded: (input: Parameters<typeof revokeBulkSuperseded>[1]) => revokeBulkSuperseded(deps, input),
    listPublishingIssuers: () => listPublishingIssuers(deps),
    publishCrl: (input: PublishCrlInput) => observeCrlPublication(deps.metrics, () => publishCrl(deps, input)),
    refreshOcspResponses: (input: RefreshOcspInput) => refreshOcspResponses(deps, input),
    markIssuerCompromised: (input: Parameters<typeof markIssuerCompromised>[1]) => markIssuerCompromised(deps, input),
    createSuccessorIntermediate: (input: CreateSuccessorInput) => createSuccessorIntermediate(deps, input),
    openCompromiseBulk: (input: Parameters<typeof openCompromiseBulk>[1]) => openCompromiseBulk(deps, input),
    revokeCompromisedIssuer: (input: Parameters<typeof revokeCompromisedIssuer>[1]) => revokeCompromisedIssuer(deps, input),
    buildCompromiseReport: (input: Parameters<typeof buildCompromiseReport>[1]) => buildCompromiseReport(deps, input),
    checkpointAudit: () => checkpointAudit(deps),
    reportRenewalFailing: (input: RenewalFailingInput) => reportRenewalFailing(deps, input),
    deliverNotifications: () => deliverNotifications(deps),
    sweepInventoryPage: (input: SweepPageInput) => sweepInventoryPage(deps, input),
    scanEndpoint: (input: ScanEndpointInput) => scanEndpoint(deps, input),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type { ActivityDeps } from './deps.js';

/** A renewal is failing (core/renewal-failing.ts says when): the audit log and a notification to the team, once per generation. */
import { redactText } from '../core/redaction.js';
import { urlsForLogs } from '../core/webhook-url.js';
import { appendAuditEvent } from '../db/audit.js';
import { findCertificate } from '../db/certificates.js';
import { enqueueNotification } from '../db/notifications.js';
import type { ActivityDeps } from './deps.js';

export interface RenewalFailingInput {
  certificateId: string;
  generation: number;
  step: string;
  error: { type: string; message: string; attempt: number };
  /** True when the run waits for an operator (a business error); false when it keeps retrying. */
  waitsForOperator: boolean;
}

export async function reportRenewalFailing(deps: ActivityDeps, input: RenewalFailingInput): Promise<void> {
  const certificate = await findCertificate(deps.db, input.certificateId);
  if (!certificate) return;
  const key = `${certificate.id}/g${input.generation}/renewal-failing`;
  // Redacted as error groups are, and with URLs cut to their origin: it goes to webhooks, mailboxes and the audit log.
  const error = urlsForLogs(redactText(input.error.message, deps.knownSecrets)).slice(0, 2_000);
  const details = { generation: input.generation, step: input.step, errorType: input.error.type, error, attempt: input.error.attempt, waitsForOperator: input.waitsForOperator };
  await appendAuditEvent(deps.db, { at: deps.now(), actor: 'workflow', action: 'renewal.failing', teamId: certificate.teamId, certificateId: certificate.id, details, dedupeKey: key });
  const next = input.waitsForOperator
    ? `it waits for an operator: fix the cause, then POST /v1/certificates/${certificate.id}/renew`
    : 'it keeps retrying with backoff';
  await enqueueNotification(deps.db, {
    teamId: certificate.teamId,
    certificateId: certificate.id,
    kind: 'renewal_failing',
    recipients: ['team'],
    message: `the renewal of certificate ${certificate.id} (${certificate.commonName ?? 'no common name'}, generation ${input.generation}) is failing at step ${input.step} (attempt ${input.error.attempt}): ${input.error.type}: ${error}; ${next}`,
    details,
    dedupeKey: key,
  });
}

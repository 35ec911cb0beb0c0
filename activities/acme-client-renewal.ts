/**
 * A renewal asked of an ACME certificate (a bulk reissue, an operator's renew, the issuer
 * compromise drill): Certflow cannot sign it itself, the client holds the key. So it asks the
 * client: the certificate's ARI window moves into the past (api/acme/renewal-info.ts), and the bulk
 * operations waiting are told it is signalled; they count it reissued once the client's order arrives.
 */
import { and, eq, inArray, isNull } from 'drizzle-orm';
import { appendAuditEvent } from '../db/audit.js';
import { bulkItems, certificates } from '../db/schema.js';
import type { ActivityDeps } from './deps.js';

export interface RequestClientRenewalInput {
  certificateId: string;
  reason: string;
  bulkOperationIds: string[];
}

export async function requestClientRenewal(deps: ActivityDeps, input: RequestClientRenewalInput): Promise<void> {
  const now = deps.now();
  const [row] = await deps.db
    .update(certificates)
    .set({ renewalRequestedAt: now, renewalRequestReason: input.reason.slice(0, 500), updatedAt: now })
    .where(eq(certificates.id, input.certificateId))
    .returning({ teamId: certificates.teamId });
  if (input.bulkOperationIds.length > 0) {
    await deps.db
      .update(bulkItems)
      .set({ signalledAt: now, updatedAt: now })
      .where(and(eq(bulkItems.certificateId, input.certificateId), inArray(bulkItems.bulkId, input.bulkOperationIds), isNull(bulkItems.signalledAt)));
  }
  await appendAuditEvent(deps.db, {
    at: now,
    actor: 'workflow',
    action: 'certificate.client_renewal_requested',
    teamId: row?.teamId ?? null,
    certificateId: input.certificateId,
    details: { reason: input.reason, bulkOperationIds: input.bulkOperationIds },
    dedupeKey: `client-renewal-requested/${input.certificateId}/${input.bulkOperationIds.join(',') || input.reason}`.slice(0, 400),
  });
}

/** The client let the ARI window (or the grace after Certflow asked) pass: the stored state says so, for lists and alerts. */
export async function markRenewalOverdue(deps: ActivityDeps, input: { certificateId: string }): Promise<void> {
  const now = deps.now();
  const [row] = await deps.db
    .update(certificates)
    .set({ state: 'renewal_overdue', updatedAt: now })
    .where(and(eq(certificates.id, input.certificateId), eq(certificates.state, 'active')))
    .returning({ teamId: certificates.teamId });
  if (!row) return;
  await appendAuditEvent(deps.db, {
    at: now,
    actor: 'workflow',
    action: 'certificate.renewal_overdue',
    teamId: row.teamId,
    certificateId: input.certificateId,
    details: {},
  });
}

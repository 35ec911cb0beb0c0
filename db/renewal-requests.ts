/**
 * Renewals asked for through the API, as the audit log records them (`certificate.renewal_requested`):
 * the record the team's maxRenewalsPerHour quota counts, so the quota and the audit trail cannot disagree.
 */
import { and, asc, eq, gt } from 'drizzle-orm';
import type { Queryable } from './database.js';
import { auditEvents } from './schema.js';

export const RENEWAL_REQUESTED_ACTION = 'certificate.renewal_requested';

/** When the team's renewal requests after `since` were accepted, oldest first. */
export async function renewalRequestTimes(db: Queryable, teamId: string, since: Date): Promise<Date[]> {
  const rows = await db
    .select({ at: auditEvents.at })
    .from(auditEvents)
    .where(and(eq(auditEvents.teamId, teamId), eq(auditEvents.action, RENEWAL_REQUESTED_ACTION), gt(auditEvents.at, since)))
    .orderBy(asc(auditEvents.at));
  return rows.map((row) => row.at);
}

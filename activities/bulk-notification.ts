/**
 * The end of a bulk operation, told to the teams it concerned: the team that started it, or for a
 * platform admin's operation every team with a certificate in it. Once per operation and team.
 */
import { eq } from 'drizzle-orm';
import type { BulkCounts, BulkState } from '../core/bulk.js';
import { enqueueNotification } from '../db/notifications.js';
import { bulkItems, certificates } from '../db/schema.js';
import type { ActivityDeps } from './deps.js';

export async function notifyBulkFinished(deps: ActivityDeps, input: { bulkId: string; state: BulkState; counts: BulkCounts; teamId: string | null; reason: string | null }): Promise<void> {
  const teamIds = input.teamId
    ? [input.teamId]
    : (
        await deps.db
          .selectDistinct({ teamId: certificates.teamId })
          .from(bulkItems)
          .innerJoin(certificates, eq(certificates.id, bulkItems.certificateId))
          .where(eq(bulkItems.bulkId, input.bulkId))
      ).map((row) => row.teamId);
  const { counts } = input;
  const summary = `${counts.selected} selected, ${counts.reissued + counts.rolled_out + counts.verified} renewed (${counts.verified} verified), ${counts.failed} failed, ${counts.skipped} skipped, ${counts.revoked} superseded versions revoked`;
  for (const teamId of teamIds) {
    await enqueueNotification(deps.db, {
      teamId,
      certificateId: null,
      kind: 'bulk_finished',
      recipients: ['team'],
      message: `bulk operation ${input.bulkId}${input.reason ? ` ("${input.reason}")` : ''} ended ${input.state}: ${summary}; details: GET /v1/bulk-reissues/${input.bulkId}`,
      details: { bulkId: input.bulkId, state: input.state, counts },
      dedupeKey: `bulk-finished/${input.bulkId}/${teamId}`,
    });
  }
}

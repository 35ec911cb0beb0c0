/**
 * The end of a bulk operation, told to the teams it concerned: the team that started it, or for a
 * platform admin's operation every team with a certificate in it. Once per operation and team.
 * A team hears only about its own certificates: a platform admin's operation is reported to each
 * team with that team's counts, and its reason (written about all the teams) only when the
 * operation touched that team alone.
 */
import { eq } from 'drizzle-orm';
import { countsOfItems, type BulkCounts, type BulkState } from '../core/bulk.js';
import { enqueueNotification } from '../db/notifications.js';
import { bulkItems, certificates } from '../db/schema.js';
import type { ActivityDeps } from './deps.js';

export async function notifyBulkFinished(deps: ActivityDeps, input: { bulkId: string; state: BulkState; counts: BulkCounts; teamId: string | null; reason: string | null }): Promise<void> {
  const perTeam = input.teamId ? new Map([[input.teamId, input.counts]]) : await countsPerTeam(deps, input.bulkId);
  const reason = perTeam.size === 1 ? input.reason : null;
  for (const [teamId, counts] of perTeam) {
    const summary = `${counts.selected} selected, ${counts.reissued + counts.rolled_out + counts.verified} renewed (${counts.verified} verified), ${counts.failed} failed, ${counts.skipped} skipped, ${counts.revoked} superseded versions revoked`;
    await enqueueNotification(deps.db, {
      teamId,
      certificateId: null,
      kind: 'bulk_finished',
      recipients: ['team'],
      message: `bulk operation ${input.bulkId}${reason ? ` ("${reason}")` : ''} ended ${input.state}: ${summary}${input.teamId ? '' : ' (your team\'s certificates)'}; details: GET /v1/bulk-reissues/${input.bulkId}`,
      details: { bulkId: input.bulkId, state: input.state, counts },
      dedupeKey: `bulk-finished/${input.bulkId}/${teamId}`,
    });
  }
}

async function countsPerTeam(deps: ActivityDeps, bulkId: string): Promise<Map<string, BulkCounts>> {
  const rows = await deps.db
    .select({ teamId: certificates.teamId, outcome: bulkItems.outcome, revokedAt: bulkItems.revokedAt })
    .from(bulkItems)
    .innerJoin(certificates, eq(certificates.id, bulkItems.certificateId))
    .where(eq(bulkItems.bulkId, bulkId));
  const byTeam = new Map<string, Array<{ outcome: (typeof rows)[number]['outcome']; revoked: boolean }>>();
  for (const row of rows) {
    const items = byTeam.get(row.teamId) ?? [];
    items.push({ outcome: row.outcome, revoked: row.revokedAt !== null });
    byTeam.set(row.teamId, items);
  }
  return new Map([...byTeam].map(([teamId, items]) => [teamId, countsOfItems(items)]));
}

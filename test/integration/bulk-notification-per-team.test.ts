/**
 * The end of a platform admin's bulk operation tells each team about its own certificates only: its
 * counts, and the operation's reason only when the operation touched that team alone. Real Postgres.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notifyBulkFinished } from '../../activities/bulk-notification.js';
import type { ActivityDeps } from '../../activities/deps.js';
import { EMPTY_COUNTS } from '../../core/bulk.js';
import { bulkItems, bulkOperations, notifications } from '../../db/schema.js';
import { createHarness, createTeamWithTokens, type Harness, type Team } from '../support/harness.js';
import { certificatesAs } from '../support/integration-suite.js';

let harness: Harness;
let teamA: Team;
let teamB: Team;

beforeAll(async () => {
  harness = await createHarness('bulk-notification-per-team');
  teamA = await createTeamWithTokens(harness);
  teamB = await createTeamWithTokens(harness);
}, 300_000);

afterAll(async () => {
  await harness?.close();
});

const create = (team: Team, name: string) => certificatesAs(harness.app, team.requester).create({ team: team.teamName, dnsNames: [name], validity: 'P1D' });

async function finishedNotification(bulkId: string, team: Team) {
  const rows = await harness.db.select().from(notifications).where(eq(notifications.dedupeKey, `bulk-finished/${bulkId}/${team.teamId}`));
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

describe('bulk_finished notification', () => {
  it("ok/a platform admin's operation over two teams tells each its own counts, and neither the reason", async () => {
    const a = await create(teamA, 'bulk-a.example.test');
    const b1 = await create(teamB, 'bulk-b1.example.test');
    const b2 = await create(teamB, 'bulk-b2.example.test');
    const bulkId = `blk_pt${Date.now()}`;
    const counts = { ...EMPTY_COUNTS, selected: 3, sent: 3, verified: 1, failed: 2 };
    await harness.db.insert(bulkOperations).values({ id: bulkId, selector: {} as never, options: {} as never, state: 'completed' as never, counts, workflowId: `bulk/${bulkId}`, createdBy: 'admin', teamId: null });
    await harness.db.insert(bulkItems).values([
      { bulkId, certificateId: a.id, outcome: 'verified' },
      { bulkId, certificateId: b1.id, outcome: 'failed' },
      { bulkId, certificateId: b2.id, outcome: 'failed' },
    ]);
    await notifyBulkFinished({ db: harness.db } as unknown as ActivityDeps, { bulkId, state: 'completed' as never, counts, teamId: null, reason: 'team B key compromise: crt keys leaked on b-host-7' });
    const toA = await finishedNotification(bulkId, teamA);
    expect((toA.details as { counts: typeof counts }).counts, toA.message).toEqual({ ...EMPTY_COUNTS, selected: 1, sent: 1, verified: 1 });
    expect(toA.message).not.toContain('key compromise');
    const toB = await finishedNotification(bulkId, teamB);
    expect((toB.details as { counts: typeof counts }).counts).toEqual({ ...EMPTY_COUNTS, selected: 2, sent: 2, failed: 2 });
    expect(toB.message).not.toContain('key compromise');
  }, 120_000);

  it("ok/a platform admin's operation over one team tells it the reason", async () => {
    const a = await create(teamA, 'bulk-a2.example.test');
    const bulkId = `blk_pt1${Date.now()}`;
    const counts = { ...EMPTY_COUNTS, selected: 1, sent: 1, verified: 1 };
    await harness.db.insert(bulkOperations).values({ id: bulkId, selector: {} as never, options: {} as never, state: 'completed' as never, counts, workflowId: `bulk/${bulkId}`, createdBy: 'admin', teamId: null });
    await harness.db.insert(bulkItems).values([{ bulkId, certificateId: a.id, outcome: 'verified' }]);
    await notifyBulkFinished({ db: harness.db } as unknown as ActivityDeps, { bulkId, state: 'completed' as never, counts, teamId: null, reason: 'rotate the intermediate' });
    expect((await finishedNotification(bulkId, teamA)).message).toContain('rotate the intermediate');
  }, 120_000);
});

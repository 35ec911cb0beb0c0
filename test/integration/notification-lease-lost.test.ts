/**
 * A delivery whose lease ran out while it was being sent is not counted as delivered: another claim
 * owns the row and its outcome. Real Postgres; the mailer is an in-process stand-in that lets the
 * lease be taken over mid-send (the thing under test is the claim bookkeeping, not SMTP).
 */
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActivityDeps } from '../../activities/deps.js';
import type { Mailer } from '../../activities/mailer.js';
import { deliverNotifications } from '../../activities/notification-delivery.js';
import { notificationDeliveries, notifications } from '../../db/schema.js';
import { authHeaders, createHarness, createTeamWithTokens, type Harness, type Team } from '../support/harness.js';

let harness: Harness;
let team: Team;

beforeAll(async () => {
  harness = await createHarness('notification-lease-lost');
  team = await createTeamWithTokens(harness);
}, 300_000);

afterAll(async () => {
  await harness?.close();
});

describe('notification delivery lease', () => {
  it('ok/a send that outlives its lease reports leaseLost, not delivered, and leaves the row to the newer claim', async () => {
    const added = await harness.app.request(`/v1/teams/${team.teamId}/contacts`, { method: 'POST', headers: authHeaders(team.admin), body: JSON.stringify({ channel: 'email', address: 'lease@example.test' }) });
    expect(added.status).toBe(201);
    const [notification] = await harness.db
      .insert(notifications)
      .values({ teamId: team.teamId, certificateId: null, kind: 'bulk_finished', recipients: ['team'], message: 'lease', dedupeKey: `lease/${team.teamId}` })
      .returning();
    let sends = 0;
    const mailer: Mailer = {
      messageIdDomain: 'example.test',
      // Other files' deliveries (the database is shared) are sent as usual.
      async send(message) {
        if (message.to !== 'lease@example.test') return;
        sends += 1;
        // Another worker claims the row after this claim's lease ran out (what claimDueDelivery does to it).
        await harness.db
          .update(notificationDeliveries)
          .set({ attempts: sql`${notificationDeliveries.attempts} + 1`, claimedUntil: new Date(Date.now() + 120_000) })
          .where(eq(notificationDeliveries.notificationId, notification!.id));
      },
      close() {},
    };
    const result = await deliverNotifications({ db: harness.db, now: () => new Date(), mailer } as unknown as ActivityDeps);
    expect(sends).toBe(1);
    expect(result.leaseLost).toBe(1);
    const [delivery] = await harness.db.select().from(notificationDeliveries).where(eq(notificationDeliveries.notificationId, notification!.id));
    expect(delivery).toMatchObject({ state: 'pending', attempts: 2, deliveredAt: null });
  }, 120_000);
});

/**
 * One team cannot swamp notifications: at most MAX_CONTACTS_PER_TEAM contacts (409 problem+json
 * beyond, nothing written), and at most MAX_IN_FLIGHT_PER_TEAM of its deliveries claimed at once, so
 * another team's delivery is claimed while the first team's slow ones are in flight. Real Postgres.
 */
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents, notifications } from '../../db/schema.js';
import { claimDueDelivery, fanOutNotifications, finishAttempt, MAX_IN_FLIGHT_PER_TEAM } from '../../db/notification-deliveries.js';
import { MAX_CONTACTS_PER_TEAM } from '../../db/team-contacts.js';
import { authHeaders, createHarness, createTeamWithTokens, type Harness, type Team } from '../support/harness.js';

let harness: Harness;
let teamA: Team;
let teamB: Team;

beforeAll(async () => {
  harness = await createHarness('notification-contacts-fairness');
  // The claims below are global: earlier test files' undelivered notifications (same database) must not take part.
  await harness.pool.query(`update notification_deliveries set state = 'cancelled', last_error = 'left by an earlier test file' where state = 'pending'`);
  await harness.pool.query('update notifications set fanned_out_at = now() where fanned_out_at is null');
  teamA = await createTeamWithTokens(harness);
  teamB = await createTeamWithTokens(harness);
}, 300_000);

afterAll(async () => {
  await harness?.close();
});

const addContact = (team: Team, address: string) =>
  harness.app.request(`/v1/teams/${team.teamId}/contacts`, { method: 'POST', headers: authHeaders(team.admin), body: JSON.stringify({ channel: 'email', address }) });

const contactAudits = async (team: Team) =>
  (await harness.db.select().from(auditEvents).where(and(eq(auditEvents.teamId, team.teamId), eq(auditEvents.action, 'team.contact_added')))).length;

describe('notification contacts and fair delivery', () => {
  it(`ok/a team gets at most ${MAX_CONTACTS_PER_TEAM} contacts; the next is a 409 problem+json that writes nothing`, async () => {
    const statuses: number[] = [];
    for (let index = 0; index < MAX_CONTACTS_PER_TEAM; index++) statuses.push((await addContact(teamA, `flood-${index}@example.test`)).status);
    expect(statuses.every((status) => status === 201)).toBe(true);
    const refused = await addContact(teamA, 'one-too-many@example.test');
    expect(refused.status).toBe(409);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(((await refused.json()) as { detail: string }).detail).toContain(`${MAX_CONTACTS_PER_TEAM} contacts`);
    expect(await contactAudits(teamA)).toBe(MAX_CONTACTS_PER_TEAM);
    // A removal frees a place.
    const list = (await (await harness.app.request(`/v1/teams/${teamA.teamId}/contacts`, { headers: authHeaders(teamA.admin) })).json()) as { items: Array<{ id: string }> };
    expect((await harness.app.request(`/v1/teams/${teamA.teamId}/contacts/${list.items[0]!.id}`, { method: 'DELETE', headers: authHeaders(teamA.admin) })).status).toBe(200);
    expect((await addContact(teamA, 'after-removal@example.test')).status).toBe(201);
  }, 120_000);

  it("ok/while one team's deliveries fill its in-flight limit, another team's older-queued-after one is claimed", async () => {
    expect((await addContact(teamB, 'b@example.test')).status).toBe(201);
    await harness.db.insert(notifications).values({ teamId: teamA.teamId, certificateId: null, kind: 'bulk_finished', recipients: ['team'], message: 'a', dedupeKey: `fair/a/${teamA.teamId}` });
    await fanOutNotifications(harness.db, { now: new Date(), maxAgeMs: 3600_000, limit: 200 });
    await harness.db.insert(notifications).values({ teamId: teamB.teamId, certificateId: null, kind: 'bulk_finished', recipients: ['team'], message: 'b', dedupeKey: `fair/b/${teamB.teamId}` });
    await fanOutNotifications(harness.db, { now: new Date(), maxAgeMs: 3600_000, limit: 200 });
    const now = new Date(Date.now() + 1_000);
    const claimed = [];
    for (let index = 0; index <= MAX_IN_FLIGHT_PER_TEAM; index++) claimed.push(await claimDueDelivery(harness.db, { now, leaseMs: 60_000 }));
    const teams = claimed.map((one) => one?.notification.teamId);
    expect(teams).toEqual([...Array<string>(MAX_IN_FLIGHT_PER_TEAM).fill(teamA.teamId), teamB.teamId]);
    // Team A at its limit and B's only one in flight: nothing more to claim until one finishes.
    expect(await claimDueDelivery(harness.db, { now, leaseMs: 60_000 })).toBeNull();
    await finishAttempt(harness.db, claimed[0]!.delivery, { state: 'cancelled', at: now });
    expect((await claimDueDelivery(harness.db, { now, leaseMs: 60_000 }))?.notification.teamId).toBe(teamA.teamId);
  }, 120_000);
});

/** A team's error groups are capped: new reasons beyond MAX_GROUPS_PER_TEAM fold into one overflow group per type. Real Postgres. */
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_GROUPS_PER_TEAM, OVERFLOW_REASON, recordFailure } from '../../db/error-groups.js';
import { errorGroups } from '../../db/schema.js';
import { createHarness, createTeamWithTokens, type Harness, type Team } from '../support/harness.js';

let harness: Harness;
let team: Team;

beforeAll(async () => {
  harness = await createHarness('error-groups-cap');
  team = await createTeamWithTokens(harness);
}, 300_000);

afterAll(async () => {
  await harness?.close();
});

describe('error group cap', () => {
  it(`ok/the ${MAX_GROUPS_PER_TEAM + 1}th and later new reasons of a team are counted in its overflow group; known reasons still count in their own`, async () => {
    const at = new Date();
    const occurrence = (reason: string) => ({ teamId: team.teamId, certificateId: null, type: 'Error', reason, message: reason, activity: 'test', at });
    for (let index = 0; index < MAX_GROUPS_PER_TEAM + 5; index++) await recordFailure(harness.db, occurrence(`reason ${index}`));
    await recordFailure(harness.db, occurrence('reason 0'));
    const groups = await harness.db.select().from(errorGroups).where(eq(errorGroups.teamId, team.teamId));
    expect(groups).toHaveLength(MAX_GROUPS_PER_TEAM + 1);
    const overflow = groups.find((group) => group.reason === OVERFLOW_REASON);
    expect(overflow?.count).toBe(5);
    const [first] = await harness.db.select().from(errorGroups).where(and(eq(errorGroups.teamId, team.teamId), eq(errorGroups.reason, 'reason 0')));
    expect(first?.count).toBe(2);
  }, 120_000);
});

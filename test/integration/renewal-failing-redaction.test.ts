/** A renewal_failing notification (and its audit event) carries the error redacted, URLs cut to their origin. Real Postgres. */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActivityDeps } from '../../activities/deps.js';
import { reportRenewalFailing } from '../../activities/renewal-failing.js';
import { notifications } from '../../db/schema.js';
import { createHarness, createTeamWithTokens, type Harness, type Team } from '../support/harness.js';
import { certificatesAs } from '../support/integration-suite.js';

let harness: Harness;
let team: Team;

beforeAll(async () => {
  harness = await createHarness('renewal-failing-redaction');
  team = await createTeamWithTokens(harness);
}, 300_000);

afterAll(async () => {
  await harness?.close();
});

describe('renewal_failing notification', () => {
  it('ok/the error text has no known secret, no URL password, no webhook path', async () => {
    const certificate = await certificatesAs(harness.app, team.requester).create({ team: team.teamName, dnsNames: ['failing.example.test'], validity: 'P1D' });
    const message = 'webhook POST https://hooks.slack.com/services/T1/B1/slackpathsecret failed; smtp://u:smtppass1234@relay.internal; key known-secret-abcdef';
    const deps = { db: harness.db, now: () => new Date(), knownSecrets: ['known-secret-abcdef'] } as unknown as ActivityDeps;
    await reportRenewalFailing(deps, { certificateId: certificate.id, generation: 7, step: 'deliver', error: { type: 'Error', message, attempt: 3 }, waitsForOperator: false });
    const [row] = await harness.db.select().from(notifications).where(eq(notifications.dedupeKey, `${certificate.id}/g7/renewal-failing`));
    const text = row!.message + JSON.stringify(row!.details);
    for (const secret of ['slackpathsecret', 'smtppass1234', 'known-secret-abcdef']) expect(text).not.toContain(secret);
    expect(row!.message).toContain('https://hooks.slack.com/…#');
  }, 120_000);
});

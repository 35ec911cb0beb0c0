/**
 * Notifications that arrive, and the inventory sweep, on the real Temporal dev server and real
 * Postgres, with a real SMTP server (npm smtp-server) and a webhook receiver on 127.0.0.1:
 *
 * - an escalated approval and a failing renewal each reach the team's webhook and mailbox exactly
 *   once, although the receivers refuse the first attempts and the worker is stopped between the
 *   queueing and the delivery (a new worker delivers);
 * - the sweep restarts a lifecycle that was terminated, warns of certificates expiring in 5 days
 *   without a working renewal (once, however often it runs), and leaves a healthy one alone.
 *
 * The delivery schedule is this file's own (its task queue, a 1 s interval), deleted at the end.
 */
import { and, eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSmtpMailer, type Mailer } from '../../activities/mailer.js';
import { verifyWebhookSignature } from '../../activities/webhook-signature.js';
import { ensureNotificationDeliverySchedule } from '../../cmd/notification-schedules.js';
import { lifecycleWorkflowId } from '../../contracts/lifecycle-messages.js';
import { emailMessageId, notificationEventId } from '../../core/notifications.js';
import { listDeliveries } from '../../db/notification-deliveries.js';
import { auditEvents, notifications } from '../../db/schema.js';
import { authHeaders, eventually, startInProcessWorker, TEST_BOOTSTRAP_TOKEN, type InProcessWorker } from '../support/harness.js';
import { useIntegrationSuite, type Created } from '../support/integration-suite.js';
import { startSmtpReceiver, startWebhookReceiver, type SmtpReceiver, type WebhookReceiver } from '../support/notification-receivers.js';

const WEBHOOK_SECRET = 'notification-test-secret-0123456789';
const MAIL_DOMAIN = 'certflow.test';

let smtp: SmtpReceiver;
let hooks: WebhookReceiver;
let mailer: Mailer;
let worker: InProcessWorker | null = null;
const scheduleId = () => `notification-delivery-${suite.harness.taskQueue}`;

const suite = useIntegrationSuite('notifications', {
  otherTeam: true,
  team: {
    policy: {
      allowedDomains: ['example.test'],
      allowWildcards: true,
      maxValidity: 'P30D',
      approval: { wildcards: true, deadline: 'PT1H', escalateAfter: 'PT2S' },
    },
  },
  teardown: async () => {
    await worker?.stop();
    await suite.harness.client.schedule.getHandle(scheduleId()).delete().catch(() => undefined);
    mailer?.close();
    await smtp?.close();
    await hooks?.close();
  },
});

function startWorker(): Promise<InProcessWorker> {
  return startInProcessWorker(suite.harness, suite.harness.temporalAddress, { mailer, notificationRetry: { baseMs: 300, capMs: 1000, maxAttempts: 100 } });
}

async function addContact(body: Record<string, unknown>): Promise<{ id: string }> {
  const response = await suite.harness.app.request(`/v1/teams/${suite.team.teamId}/contacts`, { method: 'POST', headers: authHeaders(suite.team.admin), body: JSON.stringify(body) });
  expect(response.status, await response.clone().text()).toBe(201);
  return (await response.json()) as { id: string };
}

async function notificationOf(certificateId: string, kind: string) {
  const [row] = await suite.harness.db.select().from(notifications).where(and(eq(notifications.certificateId, certificateId), eq(notifications.kind, kind)));
  return row;
}

const waitActive = (id: string) => suite.certificates.waitFor(id, (view) => view.state === 'active', { timeoutMs: 30_000, what: `${id} active` });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let webhookContact: { id: string };
let emailContact: { id: string };
/** A wildcard request that waits for approval (escalated after 2 s). */
let wildcard: Created;
/** Renewed after the team's policy no longer allows its name: the renewal fails. */
let failing: Created;
/** Its lifecycle is terminated before the sweep. */
let orphan: Created;
/** Expires in 5 days too, with a healthy lifecycle: no warning. */
let healthy: Created;

beforeAll(async () => {
  // The test files share the database and run one at a time: notifications earlier files left undelivered (to
  // contacts whose receivers are gone, e.g. the authorization matrix's) are not this file's to deliver or count.
  await suite.harness.pool.query(`update notification_deliveries set state = 'cancelled', last_error = 'left by an earlier test file' where state = 'pending'`);
  await suite.harness.pool.query('update notifications set fanned_out_at = now() where fanned_out_at is null');
  smtp = await startSmtpReceiver();
  hooks = await startWebhookReceiver();
  mailer = createSmtpMailer({ url: smtp.url, from: `Certflow <certflow@${MAIL_DOMAIN}>` });
  webhookContact = await addContact({ channel: 'webhook', url: `${hooks.baseUrl}/certflow`, secret: WEBHOOK_SECRET });
  emailContact = await addContact({ channel: 'email', address: 'oncall@example.test' });
  await ensureNotificationDeliverySchedule(suite.harness.client, { taskQueue: suite.harness.taskQueue, intervalSeconds: 1, scheduleId: scheduleId() });
  worker = await startWorker();
  const create = (name: string) => suite.certificates.create({ team: suite.team.teamName, dnsNames: [name], validity: 'P5D' });
  [failing, orphan, healthy] = [await create('failing.example.test'), await create('orphan.example.test'), await create('healthy.example.test')];
  await Promise.all([failing, orphan, healthy].map((certificate) => waitActive(certificate.id)));
});

describe('notifications', () => {
  it('team contacts: team admins manage their own; bad input and hosts outside the policy change nothing', async () => {
    const path = `/v1/teams/${suite.team.teamId}/contacts`;
    const post = (token: string, body: unknown, teamPath = path) => suite.harness.app.request(teamPath, { method: 'POST', headers: authHeaders(token), body: JSON.stringify(body) });
    const list = async () => {
      const response = await suite.harness.app.request(path, { headers: authHeaders(suite.team.admin, false) });
      expect(response.status).toBe(200);
      return ((await response.json()) as { items: Record<string, unknown>[] }).items;
    };
    const refusals: [Response, number, string | null][] = [
      [await post(suite.team.requester, { channel: 'email', address: 'x@example.test' }), 403, null],
      [await post(suite.otherTeam.admin, { channel: 'email', address: 'x@example.test' }), 404, null],
      [await post(suite.team.admin, { channel: 'webhook', url: 'https://hooks.elsewhere.example/x', secret: WEBHOOK_SECRET }), 400, 'host_not_allowed'],
      [await post(suite.team.admin, { channel: 'webhook', url: `http://127.0.0.1:${new URL(suite.harness.databaseUrl).port}/`, secret: WEBHOOK_SECRET }), 400, 'platform_service'],
      [await post(suite.team.admin, { channel: 'email', address: 'not an address' }), 400, null],
      [await post(suite.team.admin, { channel: 'email', address: 'x@example.test', extra: true }), 400, null],
      [await post(suite.team.admin, { channel: 'webhook', url: `${hooks.baseUrl}/x`, secret: 'short' }), 400, null],
    ];
    for (const [response, status, code] of refusals) {
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      if (code) expect(((await response.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe(code);
    }
    const listed = await list();
    expect(listed.map((contact) => contact.id).sort()).toEqual([webhookContact.id, emailContact.id].sort());
    expect(JSON.stringify(listed)).not.toContain(WEBHOOK_SECRET);

    // No secret given: one is made and shown once; removing it leaves the others.
    const created = await post(suite.team.admin, { channel: 'webhook', url: `${hooks.baseUrl}/slack`, format: 'slack', kinds: ['bulk_finished'] });
    expect(created.status).toBe(201);
    const made = (await created.json()) as { id: string; secret: string; format: string };
    expect(made.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(made.format).toBe('slack');
    expect(JSON.stringify(await list())).not.toContain(made.secret);
    const removed = await suite.harness.app.request(`${path}/${made.id}`, { method: 'DELETE', headers: authHeaders(suite.team.admin, false) });
    expect(removed.status).toBe(200);
    expect(((await removed.json()) as { removedAt: string | null }).removedAt).not.toBeNull();
    expect((await suite.harness.app.request(`${path}/${made.id}`, { method: 'DELETE', headers: authHeaders(suite.team.admin, false) })).status).toBe(404);
    expect((await list()).map((contact) => contact.id).sort()).toEqual([webhookContact.id, emailContact.id].sort());
  });

  it('an escalated approval and a failing renewal each reach the webhook and the mailbox once, across a worker restart', async () => {
    // The receivers are down: attempts fail and are retried with backoff.
    smtp.accepting = false;
    hooks.accepting = false;
    wildcard = await suite.certificates.create({ team: suite.team.teamName, dnsNames: ['*.wild.example.test'], validity: 'P1D' });
    const patch = await suite.harness.app.request(`/v1/teams/${suite.team.teamId}`, {
      method: 'PATCH',
      headers: authHeaders(TEST_BOOTSTRAP_TOKEN),
      body: JSON.stringify({ policy: { allowedDomains: ['elsewhere.test'] } }),
    });
    expect(patch.status, await patch.clone().text()).toBe(200);
    await suite.certificates.renew(failing.id, 'notification test');

    const escalated = await eventually(() => notificationOf(wildcard.id, 'approval_escalated'), { timeoutMs: 20_000, what: 'the escalation notification' });
    const renewalFailing = await eventually(() => notificationOf(failing.id, 'renewal_failing'), { timeoutMs: 30_000, what: 'the renewal-failing notification' });
    expect(renewalFailing.message).toContain('generation 2');
    for (const note of [escalated, renewalFailing]) {
      await eventually(
        async () => {
          const deliveries = await listDeliveries(suite.harness.db, note.id);
          return deliveries.length === 2 && deliveries.every((delivery) => delivery.attempts >= 1 && delivery.state === 'pending' && delivery.lastError) ? true : undefined;
        },
        { timeoutMs: 20_000, what: `failed first attempts of ${note.kind}` },
      );
    }
    expect(smtp.refused).toBeGreaterThan(0);
    expect(hooks.refused).toBeGreaterThan(0);

    // The worker stops with the notifications queued; the receivers come back while no worker runs.
    await worker!.stop();
    worker = null;
    smtp.accepting = true;
    hooks.accepting = true;
    await sleep(2_500);
    expect(smtp.messages).toHaveLength(0);
    expect(hooks.requests).toHaveLength(0);

    worker = await startWorker();
    const ids = [escalated, renewalFailing].map((note) => notificationEventId(note.id));
    await eventually(
      async () => {
        const mailed = smtp.messages.map((message) => message.header('X-Certflow-Notification-Id'));
        const posted = hooks.requests.map((request) => request.headers['certflow-delivery-id']);
        return ids.every((id) => mailed.includes(id) && posted.includes(id)) ? true : undefined;
      },
      { timeoutMs: 30_000, what: 'both notifications by email and webhook' },
    );
    // Several more schedule runs: nothing is sent twice.
    await sleep(4_000);
    for (const note of [escalated, renewalFailing]) {
      const id = notificationEventId(note.id);
      const mails = smtp.messages.filter((message) => message.header('X-Certflow-Notification-Id') === id);
      const posts = hooks.requests.filter((request) => request.headers['certflow-delivery-id'] === id);
      expect(mails, `emails of ${note.kind}`).toHaveLength(1);
      expect(posts, `webhooks of ${note.kind}`).toHaveLength(1);
      expect(mails[0]!.to).toEqual(['oncall@example.test']);
      expect(mails[0]!.header('Message-ID')).toBe(emailMessageId(note.id, emailContact.id, MAIL_DOMAIN));
      expect(mails[0]!.header('Subject')).toContain(note.kind === 'approval_escalated' ? 'approval escalated' : 'renewal failing');
      const post = posts[0]!;
      expect(post.path).toBe('/certflow');
      expect(verifyWebhookSignature(WEBHOOK_SECRET, post.headers['certflow-signature'] as string, post.body, Math.floor(Date.now() / 1000))).toBe(true);
      const body = JSON.parse(post.body) as Record<string, unknown>;
      expect(body).toMatchObject({ type: 'notification', id, kind: note.kind, teamId: suite.team.teamId, certificateId: note.certificateId });
      const deliveries = await listDeliveries(suite.harness.db, note.id);
      expect(deliveries.map((delivery) => [delivery.contactId, delivery.state]).sort()).toEqual(
        [
          [emailContact.id, 'delivered'],
          [webhookContact.id, 'delivered'],
        ].sort(),
      );
    }
  });

  it('the sweep restarts a terminated lifecycle and warns once of certificates expiring in 5 days without a working renewal', async () => {
    const client = suite.harness.client;
    const before = await suite.certificates.view<{ state: string; currentVersion: { serial: string } }>(orphan.id);
    await client.workflow.getHandle(lifecycleWorkflowId(orphan.id)).terminate('test: a lost lifecycle');
    expect((await client.workflow.getHandle(lifecycleWorkflowId(orphan.id)).describe()).status.name).toBe('TERMINATED');

    const sweep = (run: number) =>
      client.workflow.execute('inventorySweep', { taskQueue: suite.harness.taskQueue, workflowId: `sweep-${suite.harness.taskQueue}-${run}`, args: [{ teamId: suite.team.teamId }] });
    const first = (await sweep(1)) as { restarted: number; expiryNotices: number; checked: number };
    expect(first.restarted).toBe(1);
    expect(first.checked).toBeGreaterThanOrEqual(4);

    // Restarted: running again, at the same version.
    expect((await client.workflow.getHandle(lifecycleWorkflowId(orphan.id)).describe()).status.name).toBe('RUNNING');
    const after = await waitActive(orphan.id);
    expect((after as unknown as { currentVersion: { serial: string } }).currentVersion.serial).toBe(before.currentVersion.serial);
    const restartedEvents = await suite.harness.db.select().from(auditEvents).where(and(eq(auditEvents.certificateId, orphan.id), eq(auditEvents.action, 'sweep.lifecycle_restarted')));
    expect(restartedEvents).toHaveLength(1);

    // Expiring in 5 days: the failing renewal and the lost lifecycle get the 7-day notice, the healthy one nothing.
    const warned = async (id: string) => suite.harness.db.select().from(notifications).where(and(eq(notifications.certificateId, id), eq(notifications.kind, 'expiry_warning')));
    expect(await warned(failing.id)).toHaveLength(1);
    expect(await warned(orphan.id)).toHaveLength(1);
    expect(await warned(healthy.id)).toHaveLength(0);
    const [notice] = await warned(failing.id);
    expect(notice!.details).toMatchObject({ thresholdDays: 7, daysLeft: 4 });

    // Again: the restarted lifecycle runs now, and no notice is repeated.
    const second = (await sweep(2)) as { restarted: number };
    expect(second.restarted).toBe(0);
    expect(await warned(failing.id)).toHaveLength(1);
    expect(await warned(orphan.id)).toHaveLength(1);

    // And the warning arrives.
    const id = notificationEventId(notice!.id);
    await eventually(async () => (hooks.requests.some((request) => request.headers['certflow-delivery-id'] === id) ? true : undefined), { timeoutMs: 20_000, what: 'the expiry warning webhook' });
  });
});


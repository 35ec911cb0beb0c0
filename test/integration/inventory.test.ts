/**
 * The inventory beyond Certflow, on the real Temporal dev server and real Postgres:
 * - 1,000 PEM certificates of another CA imported (in batches of 500, the API's limit) land as
 *   `imported` certificates of the team with their expiry; importing them again is a no-op; a bundle
 *   with bad blocks stores the good ones and reports each bad one, leaving nothing half-written;
 * - a scan of TLS endpoints (node:tls servers on 127.0.0.1) records the served leaf and chain, a
 *   rescan moves last seen on, a Certflow certificate served is linked, not copied; targets outside
 *   the team's destinationHosts are refused;
 * - the inventory sweep warns (webhook) of an imported certificate expiring in 5 days;
 * - adoption starts a managed lifecycle with the same names; the other team sees and adopts nothing.
 */
import { webcrypto } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:tls';
import { and, eq, inArray } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { x509 } from '../../ca/x509.js';
import { ensureNotificationDeliverySchedule } from '../../cmd/notification-schedules.js';
import { notificationEventId } from '../../core/notifications.js';
import { auditEvents, certificates, certificateVersions, inventoryItems, inventorySightings, notifications } from '../../db/schema.js';
import { authHeaders, eventually } from '../support/harness.js';
import { useIntegrationSuite } from '../support/integration-suite.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/notification-receivers.js';

const DAY = 86_400_000;
let hooks: WebhookReceiver;
const servers: Server[] = [];
const scheduleId = () => `inventory-delivery-${suite.harness.taskQueue}`;

const suite = useIntegrationSuite('inventory', {
  worker: true,
  team: true,
  otherTeam: true,
  teardown: async () => {
    await suite.harness.client.schedule.getHandle(scheduleId()).delete().catch(() => undefined);
    for (const server of servers) await new Promise<void>((resolve) => server.close(() => resolve()));
    await hooks?.close();
  },
});

const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
let caKeys: CryptoKeyPair;
let caCert: x509.X509Certificate;

async function externalCertificate(name: string, notAfter: Date, keys?: CryptoKeyPair): Promise<x509.X509Certificate> {
  const subjectKeys = keys ?? caKeys;
  return x509.X509CertificateGenerator.create({
    serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(12))).toString('hex').replace(/^[89a-f]/, '1'),
    subject: `CN=${name}`,
    issuer: caCert.subject,
    notBefore: new Date(Date.now() - DAY),
    notAfter,
    signingAlgorithm: algorithm,
    publicKey: subjectKeys.publicKey,
    signingKey: caKeys.privateKey,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: name }])],
  });
}

async function pkcs8Pem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END PRIVATE KEY-----\n`;
}

async function serveTls(certPem: string, keyPem: string): Promise<number> {
  const server = createServer({ cert: certPem, key: keyPem });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

const post = (path: string, token: string, body: unknown) => suite.harness.app.request(path, { method: 'POST', headers: authHeaders(token), body: JSON.stringify(body) });
type ImportAnswer = { imported: number; duplicate: number; error: number; flagged: number; items: Array<{ status: string; certificateId?: string; error?: string; index: number; policyFindings?: unknown[] }> };
async function importAs(token: string, files: Array<{ name: string; pem: string }>, teamId = suite.team.teamId): Promise<Response> {
  return post(`/v1/teams/${teamId}/imports`, token, { files });
}

beforeAll(async () => {
  caKeys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
  caCert = await x509.X509CertificateGenerator.createSelfSigned({ serialNumber: '01', name: 'CN=Another CA, O=Elsewhere', notBefore: new Date(Date.now() - DAY), notAfter: new Date(Date.now() + 365 * DAY), keys: caKeys, signingAlgorithm: algorithm });
  hooks = await startWebhookReceiver();
  const contact = await post(`/v1/teams/${suite.team.teamId}/contacts`, suite.team.admin, { channel: 'webhook', url: `${hooks.baseUrl}/certflow`, secret: 'inventory-test-secret-0123456789' });
  expect(contact.status, await contact.clone().text()).toBe(201);
  await ensureNotificationDeliverySchedule(suite.harness.client, { taskQueue: suite.harness.taskQueue, intervalSeconds: 1, scheduleId: scheduleId() });
});

describe('inventory', () => {
  const bulkIds: string[] = [];

  it('imports 1,000 PEM certificates with team and expiry; again is a no-op', async () => {
    const generatedAt = performance.now();
    // Whole seconds: X.509 times carry no milliseconds.
    const notAfter = new Date(Math.floor((Date.now() + 60 * DAY) / 1000) * 1000);
    const pems: string[] = [];
    for (let index = 0; index < 1000; index++) pems.push((await externalCertificate(`bulk-${index}.example.test`, notAfter)).toString('pem'));
    const generatedMs = performance.now() - generatedAt;
    // Two bundles per request (the API takes at most 500 certificates per request).
    const batches = [pems.slice(0, 500), pems.slice(500)].map((batch, index) => [
      { name: `bundle-${index}-a.pem`, pem: batch.slice(0, 250).join('\n') },
      { name: `bundle-${index}-b.pem`, pem: batch.slice(250).join('\n') },
    ]);
    const startedAt = performance.now();
    const cpuBefore = process.cpuUsage();
    for (const files of batches) {
      const response = await importAs(suite.team.admin, files);
      expect(response.status, await response.clone().text()).toBe(200);
      const answer = (await response.json()) as ImportAnswer;
      expect(answer).toMatchObject({ imported: 500, duplicate: 0, error: 0, flagged: 0 });
      bulkIds.push(...answer.items.map((item) => item.certificateId!));
    }
    const cpu = process.cpuUsage(cpuBefore);
    console.log(
      `inventory import: 1000 certificates generated in ${generatedMs.toFixed(0)} ms; imported in ${(performance.now() - startedAt).toFixed(0)} ms wall, ` +
        `${((cpu.user + cpu.system) / 1000).toFixed(0)} ms CPU of the test process (API in-process)`,
    );
    const rows = await suite.harness.db
      .select({ teamId: certificates.teamId, source: certificates.source, state: certificates.state, notAfter: certificateVersions.notAfter, issuerId: certificateVersions.issuerId })
      .from(certificates)
      .innerJoin(certificateVersions, eq(certificateVersions.id, certificates.currentVersionId))
      .where(inArray(certificates.id, bulkIds));
    expect(rows).toHaveLength(1000);
    for (const row of rows) expect(row).toMatchObject({ teamId: suite.team.teamId, source: 'imported', state: 'active', issuerId: null, notAfter });

    // Listed with the team's certificates, with its expiry.
    const listed = await suite.harness.app.request(`/v1/certificates/${bulkIds[7]}`, { headers: authHeaders(suite.team.requester, false) });
    expect(listed.status).toBe(200);
    expect(await listed.json()).toMatchObject({ source: 'imported', teamId: suite.team.teamId, currentVersion: { notAfter: notAfter.toISOString() } });

    // The team's inventory is one listing away.
    const page = await suite.harness.app.request(`/v1/certificates?team=${suite.team.teamId}&source=imported`, { headers: authHeaders(suite.team.requester, false) });
    expect(page.status).toBe(200);
    const { items } = (await page.json()) as { items: Array<{ source: string; temporalUiUrl: string | null }> };
    expect(items.length).toBeGreaterThan(0);
    for (const item of items) expect(item).toMatchObject({ source: 'imported', temporalUiUrl: null });

    // Idempotent: the same certificates again create nothing.
    const again = (await (await importAs(suite.team.admin, batches[0]!)).json()) as ImportAnswer;
    expect(again).toMatchObject({ imported: 0, duplicate: 500, error: 0 });
    expect(new Set(again.items.map((item) => item.certificateId))).toEqual(new Set(bulkIds.slice(0, 500)));
    const [audit] = await suite.harness.db.select().from(auditEvents).where(and(eq(auditEvents.teamId, suite.team.teamId), eq(auditEvents.action, 'inventory.imported')));
    expect(audit?.details).toMatchObject({ imported: 500 });
  }, 240_000);

  it('a bundle with bad blocks: each bad one is reported, the good ones stored, nothing half-written', async () => {
    const good = (await externalCertificate('good.example.test', new Date(Date.now() + 30 * DAY))).toString('pem');
    const outside = (await externalCertificate('www.outside.test', new Date(Date.now() + 30 * DAY))).toString('pem');
    const lines = good.trim().split('\n');
    // 64 base64 characters (48 bytes) cut out of the middle: still base64, no longer a certificate.
    const truncated = [...lines.slice(0, 3), ...lines.slice(4)].join('\n');
    const key = await pkcs8Pem(caKeys.privateKey);
    const before = (await suite.harness.db.select({ id: certificates.id }).from(certificates)).length;
    const response = await importAs(suite.team.admin, [
      { name: 'mixed.pem', pem: `${good}\n${truncated}\n${key}\n${outside}` },
      { name: 'garbage.pem', pem: 'not a certificate at all' },
    ]);
    expect(response.status).toBe(200);
    const answer = (await response.json()) as ImportAnswer;
    expect(answer.items.map((item) => item.status)).toEqual(['imported', 'error', 'error', 'imported', 'error']);
    expect(answer.items[2]!.error).toContain('private keys are never imported');
    expect(answer).toMatchObject({ imported: 2, error: 3, flagged: 1 });
    // Outside the team's allowed domains: imported, flagged.
    expect(answer.items[3]!.policyFindings).toEqual([expect.objectContaining({ name: 'www.outside.test' })]);
    outsideId = answer.items[3]!.certificateId!;
    expect((await suite.harness.db.select({ id: certificates.id }).from(certificates)).length).toBe(before + 2);
    // The private key went nowhere.
    const stored = await suite.harness.db.select({ pem: certificateVersions.certificatePem }).from(certificateVersions);
    expect(stored.some((row) => row.pem.includes('PRIVATE KEY'))).toBe(false);

    // Not JSON / wrong shape / not an admin / another team: problem+json, nothing stored.
    for (const [sent, status] of [
      [await importAs(suite.team.admin, [] as never), 400],
      [await importAs(suite.team.requester, [{ name: 'x.pem', pem: good }]), 403],
      [await importAs(suite.otherTeam.admin, [{ name: 'x.pem', pem: good }]), 404],
    ] as const) {
      expect(sent.status).toBe(status);
      expect(sent.headers.get('content-type')).toContain('application/problem+json');
    }
    expect((await suite.harness.db.select({ id: certificates.id }).from(certificates)).length).toBe(before + 2);
  });

  let discoveredId: string;
  let outsideId: string;
  let ownId: string;

  it('scans TLS endpoints: records the served certificate and chain, a rescan moves last seen on, a Certflow certificate is linked', async () => {
    const leafKeys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
    const leaf = await externalCertificate('svc.example.test', new Date(Date.now() + 20 * DAY), leafKeys);
    const externalPort = await serveTls(`${leaf.toString('pem')}\n${caCert.toString('pem')}`, await pkcs8Pem(leafKeys.privateKey));

    // A certificate Certflow issued to the team (from a CSR), served by an endpoint.
    const ownKeys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=own.example.test', keys: ownKeys, signingAlgorithm: algorithm, extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'own.example.test' }])] });
    const own = await suite.certificates.create({ team: suite.team.teamName, dnsNames: ['own.example.test'], csr: csr.toString('pem'), validity: 'P10D' });
    ownId = own.id;
    await suite.certificates.waitFor(own.id, (view) => view.state === 'active', { timeoutMs: 30_000, what: 'own certificate active' });
    const chain = await (await suite.harness.app.request(`/v1/certificates/${own.id}/certificate.pem`, { headers: authHeaders(suite.team.requester, false) })).text();
    const ownPort = await serveTls(chain, await pkcs8Pem(ownKeys.privateKey));

    const scan = async () => {
      const response = await post(`/v1/teams/${suite.team.teamId}/scans`, suite.team.admin, { targets: [`127.0.0.1:${externalPort}`, `127.0.0.1:${ownPort}`, '127.0.0.1/30:1'] });
      expect(response.status, await response.clone().text()).toBe(202);
      const { id, workflowId } = (await response.json()) as { id: string; workflowId: string };
      await suite.harness.client.workflow.getHandle(workflowId).result();
      const result = await suite.harness.app.request(`/v1/teams/${suite.team.teamId}/scans/${id}`, { headers: authHeaders(suite.team.admin, false) });
      expect(result.status).toBe(200);
      return (await result.json()) as { status: string; results: Array<{ endpoint: string; outcome: string; certificateId?: string; error?: string }> };
    };
    const first = await scan();
    expect(first.status).toBe('completed');
    const byEndpoint = new Map(first.results.map((result) => [result.endpoint, result]));
    expect(byEndpoint.get(`127.0.0.1:${externalPort}`)).toMatchObject({ outcome: 'discovered', created: true });
    expect(byEndpoint.get(`127.0.0.1:${ownPort}`)).toMatchObject({ outcome: 'linked', certificateId: own.id });
    // The /30 on port 1: four endpoints, nothing listening: each fails alone.
    expect(first.results.filter((result) => result.outcome === 'failed')).toHaveLength(4);
    discoveredId = byEndpoint.get(`127.0.0.1:${externalPort}`)!.certificateId!;

    const [row] = await suite.harness.db.select().from(certificates).where(eq(certificates.id, discoveredId));
    expect(row).toMatchObject({ teamId: suite.team.teamId, source: 'discovered', dnsNames: ['svc.example.test'] });
    const [sighting] = await suite.harness.db.select().from(inventorySightings).where(eq(inventorySightings.certificateId, discoveredId));
    expect(sighting!.chainPem).toContain(caCert.toString('base64').slice(0, 40));
    const firstSeen = sighting!.lastSeenAt;

    const second = await scan();
    expect(second.results.find((result) => result.endpoint === `127.0.0.1:${externalPort}`)).toMatchObject({ certificateId: discoveredId, created: false });
    const [again] = await suite.harness.db.select().from(inventorySightings).where(eq(inventorySightings.certificateId, discoveredId));
    expect(again!.lastSeenAt.getTime()).toBeGreaterThan(firstSeen.getTime());
    expect(again!.firstSeenAt).toEqual(sighting!.firstSeenAt);
    // The Certflow certificate: linked, never copied into the inventory.
    expect(await suite.harness.db.select().from(inventoryItems).where(eq(inventoryItems.certificateId, own.id))).toHaveLength(0);
    expect(await suite.harness.db.select().from(inventorySightings).where(eq(inventorySightings.certificateId, own.id))).toHaveLength(1);

    // Outside the team's destinationHosts, or the platform's own services: refused before anything starts.
    const refused = await post(`/v1/teams/${suite.team.teamId}/scans`, suite.team.admin, { targets: ['10.1.2.3:443', `127.0.0.1:${new URL(suite.harness.databaseUrl).port}`, '10.0.0.0/16:443'] });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { errors: unknown[] }).errors).toHaveLength(3);
  }, 120_000);

  it('the sweep warns of an imported certificate expiring in 5 days', async () => {
    const soon = (await externalCertificate('soon.example.test', new Date(Date.now() + 5 * DAY))).toString('pem');
    const answer = (await (await importAs(suite.team.admin, [{ name: 'soon.pem', pem: soon }])).json()) as ImportAnswer;
    const soonId = answer.items[0]!.certificateId!;
    const summary = (await suite.harness.client.workflow.execute('inventorySweep', { taskQueue: suite.harness.taskQueue, workflowId: `inventory-sweep-${suite.harness.taskQueue}`, args: [{ teamId: suite.team.teamId }] })) as { restarted: number; expiryNotices: number };
    expect(summary.restarted).toBe(0);
    const warned = await suite.harness.db.select().from(notifications).where(and(eq(notifications.certificateId, soonId), eq(notifications.kind, 'expiry_warning')));
    expect(warned).toHaveLength(1);
    expect(warned[0]!.details).toMatchObject({ thresholdDays: 7 });
    // The 60-day ones: no warning.
    expect(await suite.harness.db.select().from(notifications).where(and(eq(notifications.certificateId, bulkIds[0]!), eq(notifications.kind, 'expiry_warning')))).toHaveLength(0);
    const deliveryId = notificationEventId(warned[0]!.id);
    await eventually(async () => (hooks.requests.some((request) => request.headers['certflow-delivery-id'] === deliveryId) ? true : undefined), { timeoutMs: 30_000, what: 'the expiry warning webhook' });
  }, 60_000);

  it('Certflow refuses to revoke or renew a tracked certificate, and adoption starts a managed lifecycle; the other team can do neither', async () => {
    for (const action of ['revoke', 'renew']) {
      const response = await post(`/v1/certificates/${discoveredId}/${action}`, suite.team.requester, {});
      expect(response.status).toBe(409);
      expect(((await response.json()) as { detail: string }).detail).toContain('not signed by Certflow');
    }
    // The other team: neither sees nor adopts.
    expect((await suite.harness.app.request(`/v1/certificates/${discoveredId}`, { headers: authHeaders(suite.otherTeam.requester, false) })).status).toBe(404);
    expect((await post(`/v1/certificates/${discoveredId}/adopt`, suite.otherTeam.requester, {})).status).toBe(404);
    expect((await suite.harness.app.request(`/v1/certificates/${discoveredId}/inventory`, { headers: authHeaders(suite.otherTeam.admin, false) })).status).toBe(404);
    // A managed certificate is not adopted.
    expect((await post(`/v1/certificates/${ownId}/adopt`, suite.team.requester, {})).status).toBe(409);

    const adopted = await post(`/v1/certificates/${discoveredId}/adopt`, suite.team.requester, {});
    expect(adopted.status, await adopted.clone().text()).toBe(202);
    const { certificate } = (await adopted.json()) as { certificate: { id: string } };
    const managed = await suite.certificates.waitFor<{ state: string; dnsNames: string[]; source: string }>(certificate.id, (view) => view.state === 'active', { timeoutMs: 30_000, what: 'adopted certificate active' });
    expect(managed).toMatchObject({ source: 'api', dnsNames: ['svc.example.test'] });
    expect((await suite.harness.client.workflow.getHandle(`certificate/${certificate.id}`).describe()).status.name).toBe('RUNNING');
    const inventory = (await (await suite.harness.app.request(`/v1/certificates/${discoveredId}/inventory`, { headers: authHeaders(suite.team.requester, false) })).json()) as Record<string, unknown>;
    expect(inventory).toMatchObject({ adoptedBy: certificate.id, origin: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
    const [old] = await suite.harness.db.select().from(certificates).where(eq(certificates.id, discoveredId));
    expect(old!.state).toBe('adopted');
    // Once only.
    expect((await post(`/v1/certificates/${discoveredId}/adopt`, suite.team.requester, {})).status).toBe(409);

    // Outside the policy: refused like any request, and the claim is given back (refused again, not 409).
    for (let attempt = 0; attempt < 2; attempt++) expect((await post(`/v1/certificates/${outsideId}/adopt`, suite.team.requester, {})).status).toBe(403);
    // Two at once: one managed certificate.
    const racing = await Promise.all([1, 2].map(() => post(`/v1/certificates/${bulkIds[1]}/adopt`, suite.team.requester, {})));
    expect(racing.map((response) => response.status).sort()).toEqual([202, 409]);
    const linked = await suite.harness.db.select().from(inventoryItems).where(eq(inventoryItems.certificateId, bulkIds[1]!));
    const winner = (await racing.find((response) => response.status === 202)!.json()) as { certificate: { id: string } };
    expect(linked[0]!.adoptedBy).toBe(winner.certificate.id);
  }, 60_000);
});

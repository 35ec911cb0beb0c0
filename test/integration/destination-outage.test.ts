/**
 * A destination outage longer than several retry intervals: the webhook receiver is down while a
 * renewal is delivered, then comes back. The renewal completes with no manual step and exactly one
 * new version, and the receiver gets it once, correctly signed.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { verifyWebhookSignature } from '../../activities/webhook-signature.js';
import { certificateVersions } from '../../db/schema.js';
import { findFreePort } from '../../devservices/free-port.js';
import { authHeaders, createHarness, createTeamWithTokens, eventually, startInProcessWorker, type Harness, type InProcessWorker } from '../support/harness.js';

const SECRET = 'outage-test-secret-0123456789abcdef';
const OUTAGE_MS = 20_000;

let harness: Harness;
let worker: InProcessWorker;
let team: Awaited<ReturnType<typeof createTeamWithTokens>>;
let receiver: Server | null = null;
const received: { deliveryId: string; serial: string; signatureValid: boolean }[] = [];

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

async function startReceiver(port: number): Promise<void> {
  receiver = createServer((request, response) => {
    void readBody(request).then((body) => {
      const signatureValid = verifyWebhookSignature(SECRET, String(request.headers['certflow-signature']), body, Math.floor(Date.now() / 1000));
      const deliveryId = String(request.headers['certflow-delivery-id']);
      if (!received.some((entry) => entry.deliveryId === deliveryId)) received.push({ deliveryId, serial: (JSON.parse(body) as { serial: string }).serial, signatureValid });
      response.writeHead(signatureValid ? 204 : 401).end();
    });
  });
  await new Promise<void>((resolve) => receiver!.listen(port, '127.0.0.1', resolve));
}

async function stopReceiver(): Promise<void> {
  const server = receiver;
  receiver = null;
  if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
}

beforeAll(async () => {
  harness = await createHarness('outage');
  worker = await startInProcessWorker(harness);
  team = await createTeamWithTokens(harness);
});

afterAll(async () => {
  await stopReceiver();
  await worker?.stop();
  await harness?.close();
});

async function view(id: string) {
  const response = await harness.app.request(`/v1/certificates/${id}`, { headers: authHeaders(team.requester, false) });
  return (await response.json()) as { state: string; attempt: number | null; lastError: { message: string } | null; currentVersion: { serial: string; generation: number } | null };
}

describe('destination outage', () => {
  it('completes a renewal by itself once the receiver is back', { timeout: 180_000 }, async () => {
    const port = await findFreePort();
    await startReceiver(port);
    const created = await harness.app.request('/v1/certificates', {
      method: 'POST',
      headers: authHeaders(team.requester),
      body: JSON.stringify({
        team: team.teamName,
        dnsNames: ['hook.example.test'],
        validity: 'P1D',
        destinations: [{ type: 'webhook', url: `http://127.0.0.1:${port}/certflow`, secret: SECRET }],
      }),
    });
    expect(created.status).toBe(202);
    const { id } = (await created.json()) as { id: string };
    const first = await eventually(async () => {
      const current = await view(id);
      return current.state === 'active' ? current : undefined;
    }, { timeoutMs: 20_000, what: 'the first version delivered' });

    await stopReceiver();
    const renewed = await harness.app.request(`/v1/certificates/${id}/renew`, { method: 'POST', headers: authHeaders(team.requester), body: JSON.stringify({ reason: 'outage test' }) });
    expect(renewed.status).toBe(202);
    const outageStarted = Date.now();

    // While the receiver is down the renewal waits, and says why.
    const waiting = await eventually(async () => {
      const current = await view(id);
      return current.currentVersion?.generation === 2 && current.lastError ? current : undefined;
    }, { timeoutMs: OUTAGE_MS + 10_000, what: 'the failed delivery to show as the last error' });
    expect(waiting.state).toBe('renewing');
    expect(waiting.lastError?.message).toMatch(/127\.0\.0\.1/);

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, OUTAGE_MS - (Date.now() - outageStarted))));
    await startReceiver(port);

    const second = await eventually(async () => {
      const current = await view(id);
      return current.state === 'active' && current.currentVersion?.generation === 2 ? current : undefined;
    }, { timeoutMs: 120_000, intervalMs: 1_000, what: 'the renewal to complete after the outage' });

    const versions = await harness.db.select().from(certificateVersions).where(eq(certificateVersions.certificateId, id));
    expect(versions.map((version) => version.generation).sort()).toEqual([1, 2]);
    expect(new Set(versions.map((version) => version.serial)).size).toBe(2);
    expect(received.map((entry) => entry.serial)).toEqual([first.currentVersion!.serial, second.currentVersion!.serial]);
    expect(received.every((entry) => entry.signatureValid)).toBe(true);
  });
});

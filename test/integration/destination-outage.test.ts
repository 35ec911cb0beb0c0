/**
 * A destination outage longer than several retry intervals: the webhook receiver is down while a
 * renewal is delivered, then comes back. The renewal completes with no manual step and exactly one
 * new version, and the receiver gets it once, correctly signed.
 */
import { createServer, type Server } from 'node:http';
import { describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { verifyWebhookSignature } from '../../activities/webhook-signature.js';
import { certificateVersions } from '../../db/schema.js';
import { findFreePort } from '../../devservices/free-port.js';
import { useIntegrationSuite } from '../support/integration-suite.js';
import { readBody } from '../support/read-body.js';

const SECRET = 'outage-test-secret-0123456789abcdef';
const OUTAGE_MS = 20_000;

let receiver: Server | null = null;
const received: { deliveryId: string; serial: string; signatureValid: boolean }[] = [];


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

const suite = useIntegrationSuite('outage', { worker: true, team: true, teardown: stopReceiver });

interface View {
  state: string;
  attempt: number | null;
  lastError: { message: string } | null;
  currentVersion: { serial: string; generation: number } | null;
}

describe('destination outage', () => {
  it('completes a renewal by itself once the receiver is back', { timeout: 180_000 }, async () => {
    const port = await findFreePort();
    await startReceiver(port);
    const { id } = await suite.certificates.create({
      team: suite.team.teamName,
      dnsNames: ['hook.example.test'],
      validity: 'P1D',
      destinations: [{ type: 'webhook', url: `http://127.0.0.1:${port}/certflow`, secret: SECRET }],
    });
    const first = await suite.certificates.waitFor<View>(id, (current) => current.state === 'active', { timeoutMs: 20_000, what: 'the first version delivered' });

    await stopReceiver();
    await suite.certificates.renew(id, 'outage test');
    const outageStarted = Date.now();

    // While the receiver is down the renewal waits, and says why.
    const waiting = await suite.certificates.waitFor<View>(id, (current) => current.currentVersion?.generation === 2 && current.lastError !== null, {
      timeoutMs: OUTAGE_MS + 10_000,
      what: 'the failed delivery to show as the last error',
    });
    expect(waiting.state).toBe('renewing');
    expect(waiting.lastError?.message).toMatch(/127\.0\.0\.1/);

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, OUTAGE_MS - (Date.now() - outageStarted))));
    await startReceiver(port);

    const second = await suite.certificates.waitFor<View>(id, (current) => current.state === 'active' && current.currentVersion?.generation === 2, {
      timeoutMs: 120_000,
      intervalMs: 1_000,
      what: 'the renewal to complete after the outage',
    });

    const versions = await suite.harness.db.select().from(certificateVersions).where(eq(certificateVersions.certificateId, id));
    expect(versions.map((version) => version.generation).sort()).toEqual([1, 2]);
    expect(new Set(versions.map((version) => version.serial)).size).toBe(2);
    expect(received.map((entry) => entry.serial)).toEqual([first.currentVersion!.serial, second.currentVersion!.serial]);
    expect(received.every((entry) => entry.signatureValid)).toBe(true);
  });
});

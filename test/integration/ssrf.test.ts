/**
 * No SSRF (issue 11, "Why": `http://169.254.169.254/…` and `127.0.0.1:5433`, the platform's own
 * Postgres, were accepted with 202 and the worker connected to them, returning what it saw in
 * `lastError`). Webhook URLs and verify endpoints are checked when the request arrives (typed
 * `errors[]`, nothing created) and again by the worker on the addresses a name resolves to right
 * before it connects: a name that passes at request time but resolves to a denied address is never
 * connected to. What a receiver answers is bounded and sanitized before it reaches `lastError`.
 *
 * The harness's platform rules allow loopback as an operator exception (the tests' receivers listen
 * there) and deny the test Postgres and Temporal. The worker of this file resolves some names of
 * `example.test` (the team's allowed zone) with a resolver of its own, as a rebinding DNS would.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { DestinationGuard, systemResolver } from '../../activities/destination-guard.js';
import { auditEvents } from '../../db/schema.js';
import { authHeaders, createTeamWithTokens, startInProcessWorker, testDestinationRules, type InProcessWorker, type Team } from '../support/harness.js';
import { certificatesAs, useIntegrationSuite } from '../support/integration-suite.js';

let worker: InProcessWorker | undefined;
const servers: Server[] = [];
const suite = useIntegrationSuite('ssrf', {
  team: true,
  teardown: async () => {
    await worker?.stop();
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  },
});

/** What the rebinding DNS answers for names of the allowed zone. */
const REBOUND: Record<string, string[]> = {
  'mixed.example.test': ['127.0.0.1', '169.254.169.254'],
  'database.example.test': ['127.0.0.1'],
};

async function ensureWorker(): Promise<void> {
  if (worker) return;
  const guard = new DestinationGuard(testDestinationRules(suite.harness.databaseUrl, suite.harness.temporalAddress), async (name) => REBOUND[name] ?? systemResolver(name));
  worker = await startInProcessWorker(suite.harness, undefined, { destinationGuard: guard });
}

const postgresPort = () => Number(new URL(suite.harness.databaseUrl).port);

interface Problem {
  type: string;
  status: number;
  errors?: Array<{ field: string; code: string; message: string }>;
}

interface CertificateView {
  state: string;
  lastError: { type: string; message: string } | null;
}

async function post(team: Team, body: Record<string, unknown>): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await suite.harness.app.request('/v1/certificates', { method: 'POST', headers: authHeaders(team.requester), body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function certificateCount(team: Team): Promise<number> {
  const response = await suite.harness.app.request(`/v1/certificates?team=${team.teamName}`, { headers: authHeaders(team.requester, false) });
  return ((await response.json()) as { items: unknown[] }).items.length;
}

/** An HTTP receiver on 127.0.0.1 that counts connections and answers with `answer`. */
async function receiver(answer: (response: ServerResponse) => void): Promise<{ port: number; connections: () => number }> {
  let connections = 0;
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => answer(response));
  });
  server.on('connection', () => connections++);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, connections: () => connections };
}

const SECRET = 'ssrf-test-secret-0123456789abcdef0123';
const webhook = (url: string) => ({ type: 'webhook', url, secret: SECRET });

async function lastErrorOf(id: string): Promise<CertificateView> {
  return certificatesAs(suite.harness.app, suite.team.requester).waitFor<CertificateView>(id, (view) => view.lastError !== null, {
    timeoutMs: 60_000,
    what: `${id} to report why its rollout failed`,
  });
}

describe('request time: refused with typed errors, nothing created', () => {
  it('refuses a webhook to the cloud metadata address and a verify endpoint on the platform Postgres', async () => {
    const before = await certificateCount(suite.team);
    const refused = await post(suite.team, {
      team: suite.team.teamName,
      dnsNames: ['ssrf.example.test'],
      validity: 'P1D',
      destinations: [
        webhook('http://169.254.169.254/latest/meta-data/iam/security-credentials/'),
        { type: 'file', directory: 'ssrf', verify: { endpoints: [{ host: '127.0.0.1', port: postgresPort() }], timeout: 'PT10S' } },
      ],
    });
    expect(refused.status, JSON.stringify(refused.body)).toBe(403);
    const problem = refused.body as unknown as Problem;
    expect(problem.type).toBe('/problems/destination-host-refused');
    expect(problem.errors).toEqual([
      { field: 'destinations/0/url', code: 'address_denied', message: expect.stringMatching(/169\.254\.169\.254 is a link-local address/) },
      { field: 'destinations/1/verify/endpoints/0', code: 'platform_service', message: expect.stringMatching(/Postgres/) },
    ]);
    expect(await certificateCount(suite.team)).toBe(before);
    // The refused file destination claimed nothing: the directory is still free.
    expect((await post(suite.team, { team: suite.team.teamName, dnsNames: ['ssrf.example.test'], validity: 'P1D', destinations: [{ type: 'file', directory: 'ssrf' }] })).status).toBe(202);
  });

  it.each([
    ['the IPv4-mapped metadata address', 'http://[::ffff:169.254.169.254]/', 'address_denied'],
    ['a decimal loopback address', 'http://2130706433:PG/', 'platform_service'],
    ['the platform Postgres through localhost', 'http://localhost:PG/', 'platform_service'],
    ['a host outside the allowed zones', 'https://hooks.elsewhere.test/', 'host_not_allowed'],
  ])('refuses %s', async (_name, url, code) => {
    const refused = await post(suite.team, { team: suite.team.teamName, dnsNames: ['ssrf.example.test'], validity: 'P1D', destinations: [webhook(url.replace('PG', String(postgresPort())))] });
    expect(refused.status, JSON.stringify(refused.body)).toBe(403);
    expect((refused.body as unknown as Problem).errors?.map((error) => error.code)).toEqual([code]);
  });

  it('allows no destination host at all to a team whose policy has no destinationHosts', async () => {
    const bare = await createTeamWithTokens(suite.harness, { policy: { allowedDomains: ['example.test'], destinationHosts: undefined } });
    const refused = await post(bare, { team: bare.teamName, dnsNames: ['bare.example.test'], validity: 'P1D', destinations: [webhook('https://hooks.example.test/')] });
    expect(refused.status).toBe(403);
    expect((refused.body as unknown as Problem).errors?.map((error) => error.code)).toEqual(['no_destination_policy']);
  });
});

describe('connect time: the resolved addresses are checked, and only they are connected to', () => {
  it('never connects when an allowed name resolves to a denied address, and says why without content', async () => {
    await ensureWorker();
    const target = await receiver((response) => response.writeHead(204).end());
    const created = await post(suite.team, {
      team: suite.team.teamName,
      dnsNames: ['rebound.example.test'],
      validity: 'P1D',
      destinations: [webhook(`http://mixed.example.test:${target.port}/hook`)],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(202);
    const view = await lastErrorOf(String(created.body['id']));
    expect(view.lastError!.message).toMatch(/refused before connecting: "mixed\.example\.test" resolves to .*169\.254\.169\.254 is a link-local address/);
    // One of its addresses (127.0.0.1, allowed here) is where the receiver listens: nothing reached it.
    expect(target.connections()).toBe(0);
    const events = await suite.harness.db.select().from(auditEvents).where(and(eq(auditEvents.action, 'destination.connect_refused'), eq(auditEvents.certificateId, String(created.body['id']))));
    expect(events.length).toBeGreaterThanOrEqual(1);
  });

  it('refuses a verify endpoint whose name resolves to the platform Postgres', async () => {
    await ensureWorker();
    const created = await post(suite.team, {
      team: suite.team.teamName,
      dnsNames: ['database.example.test'],
      validity: 'P1D',
      destinations: [{ type: 'file', directory: 'rebound-verify', verify: { endpoints: [{ host: 'database.example.test', port: postgresPort() }], timeout: 'PT30S' } }],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(202);
    const view = await lastErrorOf(String(created.body['id']));
    expect(view.lastError!.message).toMatch(/"database\.example\.test" resolves to .*Postgres/);
  });

  it("bounds and sanitizes what a receiver answers before it reaches lastError", async () => {
    await ensureWorker();
    const target = await receiver((response) => {
      response.writeHead(400, { 'Content-Type': 'text/plain' });
      response.end(`\u001b]0;owned\u0007rejected: bad signature ${'x'.repeat(8 * 1024)} MARKER-BEYOND-THE-LIMIT`);
    });
    const created = await post(suite.team, {
      team: suite.team.teamName,
      dnsNames: ['chatty.example.test'],
      validity: 'P1D',
      destinations: [webhook(`http://127.0.0.1:${target.port}/hook`)],
    });
    expect(created.status).toBe(202);
    const view = await lastErrorOf(String(created.body['id']));
    expect(view.lastError!.message).toMatch(/answered 400: .*rejected: bad signature x+…/);
    expect(view.lastError!.message).not.toMatch(/[\u0000-\u001f\u007f]/);
    expect(view.lastError!.message).not.toContain('MARKER-BEYOND-THE-LIMIT');
    expect(view.lastError!.message.length).toBeLessThan(600);
  });
});

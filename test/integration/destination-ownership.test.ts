/**
 * Destinations are owned (issue 11, "Why": team B's `versions/1` overwrote team A's): a `file`
 * directory belongs to the certificate that first named it. Another team naming it — the same
 * directory, written differently, or a directory inside or around it — gets 409 naming the owner
 * team, and nothing is created; the owner's files stay as they were. The owner's renewals keep
 * the claim; after a revocation only the owner's team may take the directory over. At delivery the
 * worker follows no symbolic link below the destination root.
 */
import { mkdtemp, readdir, readFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { auditEvents } from '../../db/schema.js';
import { inject } from 'vitest';
import { authHeaders, type Team } from '../support/harness.js';
import { certificatesAs, useIntegrationSuite } from '../support/integration-suite.js';
import { revokeAndWait } from '../support/revoke.js';

const suite = useIntegrationSuite('destination-ownership', { worker: true, team: true, otherTeam: true });

interface CertificateView {
  state: string;
  currentVersion: { serial: string; generation: number } | null;
  lastError: { type: string; message: string } | null;
}

interface Problem {
  type: string;
  status: number;
  detail: string;
  ownerTeam?: string;
  ownerCertificateId?: string;
  errors?: Array<{ field: string; message: string }>;
}

async function post(team: Team, body: Record<string, unknown>): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await suite.harness.app.request('/v1/certificates', { method: 'POST', headers: authHeaders(team.requester), body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const fileBody = (team: Team, name: string, directory: string) => ({ team: team.teamName, dnsNames: [`${name}.example.test`], validity: 'P1D', destinations: [{ type: 'file', directory }] });

async function certificatesOf(team: Team): Promise<number> {
  const response = await suite.harness.app.request(`/v1/certificates?team=${team.teamName}`, { headers: authHeaders(team.requester, false) });
  return ((await response.json()) as { items: unknown[] }).items.length;
}

async function activeAt(team: Team, id: string, generation: number): Promise<CertificateView> {
  return certificatesAs(suite.harness.app, team.requester).waitFor<CertificateView>(id, (view) => view.state === 'active' && view.currentVersion?.generation === generation, {
    timeoutMs: 30_000,
    what: `${id} active at generation ${generation}`,
  });
}

const read = (directory: string, file: string) => readFile(join(suite.harness.deliveryRoot, directory, file), 'utf8');

describe('a file directory belongs to one certificate', () => {
  it("refuses another team's certificate naming it (however written) with 409 naming the owner team, and leaves the owner's files alone", async () => {
    const owner = await post(suite.team, fileBody(suite.team, 'owner', 'payments/web'));
    expect(owner.status).toBe(202);
    const ownerId = String(owner.body['id']);
    await activeAt(suite.team, ownerId, 1);
    const before = { cert: await read('payments/web', 'cert.pem'), key: await read('payments/web', 'key.pem') };
    const otherBefore = await certificatesOf(suite.otherTeam);

    for (const directory of ['payments/web', 'Payments/WEB', 'payments', 'payments/web/versions/1', 'payments/web/current']) {
      const refused = await post(suite.otherTeam, fileBody(suite.otherTeam, 'intruder', directory));
      expect(refused.status, `${directory}: ${JSON.stringify(refused.body)}`).toBe(409);
      const problem = refused.body as unknown as Problem;
      expect(problem.type).toBe('/problems/destination-claimed');
      expect(problem.ownerTeam).toBe(suite.team.teamName);
      expect(problem.detail).toContain(`team "${suite.team.teamName}"`);
      expect(problem.ownerCertificateId).toBeUndefined(); // another team's certificate ids stay hidden
      expect(problem.errors).toEqual([{ field: 'destinations/0', message: expect.stringContaining(suite.team.teamName) }]);
    }

    // Nothing was created for the refused requests, and the owner's files are what they were.
    expect(await certificatesOf(suite.otherTeam)).toBe(otherBefore);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await read('payments/web', 'cert.pem')).toBe(before.cert);
    expect(await read('payments/web', 'key.pem')).toBe(before.key);
    expect(await readdir(join(suite.harness.deliveryRoot, 'payments', 'web', 'versions'))).toEqual(['1']);

    // Each refusal is in the audit log, with the team that tried and the owner it met.
    const refusals = await suite.harness.db.select().from(auditEvents).where(and(eq(auditEvents.action, 'destination.claim_refused'), eq(auditEvents.teamId, suite.otherTeam.teamId)));
    expect(refusals).toHaveLength(5);
    expect(refusals.every((event) => event.details['ownerCertificateId'] === ownerId)).toBe(true);
    const [claimed] = await suite.harness.db.select().from(auditEvents).where(and(eq(auditEvents.action, 'destination.claimed'), eq(auditEvents.certificateId, ownerId)));
    expect(claimed?.details['keys']).toEqual([`file:${join(suite.harness.deliveryRoot, 'payments/web').toLowerCase()}`]);

    // A sibling directory is free.
    expect((await post(suite.otherTeam, fileBody(suite.otherTeam, 'sibling', 'payments-web'))).status).toBe(202);
  });

  it("keeps the claim across the owner's renewals; within the team, another certificate is told which one owns it", async () => {
    const created = await post(suite.team, fileBody(suite.team, 'renewed', 'renewed'));
    expect(created.status).toBe(202);
    const id = String(created.body['id']);
    await activeAt(suite.team, id, 1);
    await certificatesAs(suite.harness.app, suite.team.requester).renew(id, 'test');
    await activeAt(suite.team, id, 2);
    expect(await readdir(join(suite.harness.deliveryRoot, 'renewed', 'versions'))).toEqual(['1', '2']);

    const sameTeam = await post(suite.team, fileBody(suite.team, 'second', 'renewed'));
    expect(sameTeam.status).toBe(409);
    expect((sameTeam.body as unknown as Problem).ownerCertificateId).toBe(id);
  });

  it('passes a revoked certificate\'s directory to its own team only', async () => {
    const created = await post(suite.team, fileBody(suite.team, 'revoked', 'revoked'));
    const id = String(created.body['id']);
    await activeAt(suite.team, id, 1);
    await revokeAndWait(suite.harness.app, id, suite.team.requester);

    expect((await post(suite.otherTeam, fileBody(suite.otherTeam, 'late', 'revoked'))).status).toBe(409);
    const successor = await post(suite.team, fileBody(suite.team, 'successor', 'revoked'));
    expect(successor.status, JSON.stringify(successor.body)).toBe(202);
    await activeAt(suite.team, String(successor.body['id']), 1);
  });

  it('lets exactly one of two racing requests for a new directory have it', async () => {
    const answers = await Promise.all([post(suite.team, fileBody(suite.team, 'race-a', 'race')), post(suite.otherTeam, fileBody(suite.otherTeam, 'race-b', 'race'))]);
    expect(answers.map((answer) => answer.status).sort()).toEqual([202, 409]);
  });

  it('refuses two destinations of one request that write to the same place', async () => {
    const body = { ...fileBody(suite.team, 'twice', 'twice'), destinations: [{ type: 'file', directory: 'twice' }, { type: 'file', directory: 'twice/inner' }] };
    const refused = await post(suite.team, body);
    expect(refused.status).toBe(400);
    expect((refused.body as unknown as Problem).errors?.[0]?.field).toBe('destinations/1');
  });

  it('follows no symbolic link below the destination root when it writes', async () => {
    const elsewhere = await mkdtemp(join(inject('tempDir'), 'elsewhere-'));
    await symlink(elsewhere, join(suite.harness.deliveryRoot, 'linked'));
    const created = await post(suite.team, fileBody(suite.team, 'linked', 'linked'));
    expect(created.status).toBe(202);
    const view = await certificatesAs(suite.harness.app, suite.team.requester).waitFor<CertificateView>(String(created.body['id']), (current) => current.lastError !== null, {
      timeoutMs: 30_000,
      what: 'the delivery to be refused',
    });
    expect(view.lastError!.message).toMatch(/symbolic link/);
    expect(await readdir(elsewhere)).toEqual([]);
  });
});

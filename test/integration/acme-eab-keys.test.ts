/**
 * ACME external account binding keys through the REST API (issue 12): a team's admin (or the platform
 * admin) makes a key and is shown its MAC key once — never again, not in the listing nor in the audit
 * log; a team lists and revokes only its own keys; revoking is idempotent; a platform that serves no
 * ACME makes no keys (503). Binding an ACME account with a key is exercised in acme-lego.test.ts.
 * Also the certificate listing's `source` filter (api or acme).
 */
import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { EabSecret } from '../../api/acme/eab.js';
import { createApp } from '../../api/app.js';
import { listAuditEvents } from '../../db/audit.js';
import { BOOTSTRAP_PRINCIPAL_ID } from '../../db/principals.js';
import { certificates } from '../../db/schema.js';
import { authHeaders, TEST_BOOTSTRAP_TOKEN } from '../support/harness.js';
import { useIntegrationSuite } from '../support/integration-suite.js';

const suite = useIntegrationSuite('acme-eab-keys', { team: true, otherTeam: true });

/** What `api/acme/eab.ts` derives MAC keys from; the app below serves ACME with it (suite.harness.app serves none). */
const eabSecret = EabSecret.fromBytes(randomBytes(32));
let acmeApp: ReturnType<typeof createApp>;
beforeAll(() => {
  acmeApp = createApp({ ...suite.harness.apiDeps, acme: { eabSecret, allowUnboundAccounts: false, validitySeconds: 7 * 86_400 } });
});

interface EabKeyView {
  keyId: string;
  teamId: string;
  createdBy: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}
type CreatedEabKey = EabKeyView & { hmacKey: string };

const VIEW_KEYS = ['createdAt', 'createdBy', 'keyId', 'lastUsedAt', 'revokedAt', 'teamId'];

const keysPath = (teamId: string) => `/v1/teams/${teamId}/acme-eab-keys`;
const request = (method: string, path: string, token: string, app: Pick<typeof acmeApp, 'request'> = acmeApp) =>
  app.request(path, { method, headers: authHeaders(token, false) });

async function createKey(teamId: string, token: string): Promise<CreatedEabKey> {
  const response = await request('POST', keysPath(teamId), token);
  expect(response.status, await response.clone().text()).toBe(201);
  return (await response.json()) as CreatedEabKey;
}

async function listKeys(teamId: string, token: string, app?: Pick<typeof acmeApp, 'request'>): Promise<{ text: string; items: EabKeyView[] }> {
  const response = await request('GET', keysPath(teamId), token, app);
  const text = await response.text();
  expect(response.status, text).toBe(200);
  return { text, items: (JSON.parse(text) as { items: EabKeyView[] }).items };
}

async function expectProblem(response: Response, status: number, type: string): Promise<{ detail: string }> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  const body = JSON.parse(text) as { type: string; status: number; detail: string };
  expect(body).toMatchObject({ type, status });
  return body;
}

async function auditEventsOf(teamId: string, action: string, keyId: string) {
  return (await listAuditEvents(suite.harness.db, { teamId, limit: 500 })).filter((event) => event.action === action && event.details['keyId'] === keyId);
}

describe('ACME EAB keys', () => {
  it('makes a key whose 32-byte MAC key is shown once: never in the listing or the audit log', async () => {
    const created = await createKey(suite.team.teamId, suite.team.admin);
    expect(Object.keys(created).sort()).toEqual([...VIEW_KEYS, 'hmacKey'].sort());
    expect(created).toMatchObject({ teamId: suite.team.teamId, lastUsedAt: null, revokedAt: null });
    expect(created.keyId).toMatch(/^eab_[a-z2-7]+$/);
    expect(created.createdBy).toMatch(/^prn_/);
    expect(created.createdBy).not.toBe(BOOTSTRAP_PRINCIPAL_ID);
    expect(Number.isNaN(Date.parse(created.createdAt))).toBe(false);
    // base64url without padding, 32 bytes, derived from the platform's secret and the key id.
    expect(created.hmacKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(created.hmacKey, 'base64url')).toHaveLength(32);
    expect(created.hmacKey).toBe(eabSecret.macKey(created.keyId).toString('base64url'));

    // The platform admin makes keys for any team; each key has a MAC key of its own.
    const byPlatform = await createKey(suite.team.teamId, TEST_BOOTSTRAP_TOKEN);
    expect(byPlatform.createdBy).toBe(BOOTSTRAP_PRINCIPAL_ID);
    expect(byPlatform.keyId).not.toBe(created.keyId);
    expect(byPlatform.hmacKey).not.toBe(created.hmacKey);

    const { text, items } = await listKeys(suite.team.teamId, suite.team.admin);
    for (const secret of [created.hmacKey, byPlatform.hmacKey]) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/hmac/i);
    const { hmacKey: _shownOnce, ...view } = created;
    expect(items.find((item) => item.keyId === created.keyId)).toEqual(view);
    for (const item of items) expect(Object.keys(item).sort()).toEqual(VIEW_KEYS);
    // Newest first.
    expect(items.findIndex((item) => item.keyId === byPlatform.keyId)).toBeLessThan(items.findIndex((item) => item.keyId === created.keyId));

    for (const key of [created, byPlatform]) {
      const events = await auditEventsOf(suite.team.teamId, 'acme.eab_key_created', key.keyId);
      expect(events).toHaveLength(1);
      expect(events[0]!.actor).toBe(key.createdBy);
      expect(JSON.stringify(events[0])).not.toContain(key.hmacKey);
    }
  });

  it('lists and revokes only the team’s own keys', async () => {
    const own = await createKey(suite.team.teamId, suite.team.admin);
    const other = await createKey(suite.otherTeam.teamId, suite.otherTeam.admin);

    const ownList = (await listKeys(suite.team.teamId, suite.team.admin)).items;
    expect(ownList.map((item) => item.keyId)).toContain(own.keyId);
    expect(ownList.every((item) => item.teamId === suite.team.teamId)).toBe(true);
    const otherList = (await listKeys(suite.otherTeam.teamId, suite.otherTeam.admin)).items;
    expect(otherList.map((item) => item.keyId)).toContain(other.keyId);
    expect(otherList.map((item) => item.keyId)).not.toContain(own.keyId);

    // Another team's admin does not see the team; a requester of the team is not an admin.
    await expectProblem(await request('GET', keysPath(suite.team.teamId), suite.otherTeam.admin), 404, '/problems/not-found');
    await expectProblem(await request('POST', keysPath(suite.team.teamId), suite.otherTeam.admin), 404, '/problems/not-found');
    await expectProblem(await request('GET', keysPath(suite.team.teamId), suite.team.requester), 403, '/problems/forbidden');
    await expectProblem(await request('POST', keysPath(suite.team.teamId), suite.team.requester), 403, '/problems/forbidden');

    // Another team's key id: not found, under the team's own path or under the other team's.
    await expectProblem(await request('DELETE', `${keysPath(suite.team.teamId)}/${other.keyId}`, suite.team.admin), 404, '/problems/not-found');
    await expectProblem(await request('DELETE', `${keysPath(suite.otherTeam.teamId)}/${other.keyId}`, suite.team.admin), 404, '/problems/not-found');
    await expectProblem(await request('DELETE', `${keysPath(suite.team.teamId)}/${other.keyId}`, TEST_BOOTSTRAP_TOKEN), 404, '/problems/not-found');
    await expectProblem(await request('DELETE', `${keysPath(suite.team.teamId)}/eab_doesnotexist`, suite.team.admin), 404, '/problems/not-found');
    await expectProblem(await request('DELETE', `${keysPath(suite.team.teamId)}/${own.keyId}`, suite.team.requester), 403, '/problems/forbidden');
    const untouched = (await listKeys(suite.otherTeam.teamId, suite.otherTeam.admin)).items.find((item) => item.keyId === other.keyId);
    expect(untouched?.revokedAt).toBeNull();
    expect(await auditEventsOf(suite.otherTeam.teamId, 'acme.eab_key_revoked', other.keyId)).toHaveLength(0);
    expect((await listKeys(suite.team.teamId, suite.team.admin)).items.find((item) => item.keyId === own.keyId)?.revokedAt).toBeNull();
  });

  it('revokes a key idempotently: the second DELETE answers the first revocation, audited once', async () => {
    const key = await createKey(suite.team.teamId, suite.team.admin);

    const first = await request('DELETE', `${keysPath(suite.team.teamId)}/${key.keyId}`, suite.team.admin);
    expect(first.status).toBe(200);
    const revoked = (await first.json()) as EabKeyView;
    expect(Object.keys(revoked).sort()).toEqual(VIEW_KEYS);
    expect(revoked).toMatchObject({ keyId: key.keyId, teamId: suite.team.teamId, createdBy: key.createdBy, createdAt: key.createdAt, lastUsedAt: null });
    expect(revoked.revokedAt).not.toBeNull();

    const again = await request('DELETE', `${keysPath(suite.team.teamId)}/${key.keyId}`, TEST_BOOTSTRAP_TOKEN);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(revoked);
    expect((await listKeys(suite.team.teamId, suite.team.admin)).items.find((item) => item.keyId === key.keyId)).toEqual(revoked);

    const events = await auditEventsOf(suite.team.teamId, 'acme.eab_key_revoked', key.keyId);
    expect(events).toHaveLength(1);
    expect(events[0]!.actor).toBe(key.createdBy);
    expect(JSON.stringify(events[0])).not.toContain(key.hmacKey);
  });

  it('makes no key where the platform serves no ACME (503 problem), and still lists the keys', async () => {
    const before = (await listKeys(suite.team.teamId, suite.team.admin)).items;
    const off = suite.harness.app;
    const problem = await expectProblem(await request('POST', keysPath(suite.team.teamId), suite.team.admin, off), 503, '/problems/unavailable');
    expect(problem.detail).toMatch(/CERTFLOW_ACME_PORT/);
    await expectProblem(await request('POST', keysPath(suite.team.teamId), TEST_BOOTSTRAP_TOKEN, off), 503, '/problems/unavailable');
    // Access is checked first: no hint about ACME for those who may not make keys.
    await expectProblem(await request('POST', keysPath(suite.team.teamId), suite.team.requester, off), 403, '/problems/forbidden');
    await expectProblem(await request('POST', keysPath(suite.team.teamId), suite.otherTeam.admin, off), 404, '/problems/not-found');

    expect((await listKeys(suite.team.teamId, suite.team.admin, off)).items).toEqual(before);
  });
});

describe('GET /v1/certificates?source=', () => {
  it('narrows the listing to certificates requested through the API, or ordered over ACME', async () => {
    const ids: string[] = [];
    for (const name of ['api-source', 'acme-source']) {
      // No worker polls this file's task queue: the certificates stay pending, which is all the listing needs.
      const created = await suite.certificates.create({ team: suite.team.teamName, dnsNames: [`${name}.example.test`], validity: 'P1D' });
      ids.push(created.id);
    }
    const [viaApi, viaAcme] = ids as [string, string];
    // ACME orders are finalized through the same creation path (acme-lego.test.ts); here the row is marked as one.
    await suite.harness.db.update(certificates).set({ source: 'acme', acmeAccountId: 'acct_eabkeystest' }).where(eq(certificates.id, viaAcme));

    const list = async (query: string) => {
      const response = await request('GET', `/v1/certificates?team=${suite.team.teamId}${query}`, suite.team.requester, suite.harness.app);
      const text = await response.text();
      expect(response.status, text).toBe(200);
      return (JSON.parse(text) as { items: Array<{ id: string; source: string; acmeAccountId: string | null }> }).items;
    };
    const all = await list('');
    expect(all.find((item) => item.id === viaApi)).toMatchObject({ source: 'api', acmeAccountId: null });
    expect(all.find((item) => item.id === viaAcme)).toMatchObject({ source: 'acme', acmeAccountId: 'acct_eabkeystest' });
    const apiOnly = await list('&source=api');
    expect(apiOnly.map((item) => item.id)).toContain(viaApi);
    expect(apiOnly.every((item) => item.source === 'api')).toBe(true);
    expect((await list('&source=acme')).map((item) => item.id)).toEqual([viaAcme]);

    const refused = (query: string) => request('GET', `/v1/certificates?team=${suite.team.teamId}${query}`, suite.team.requester, suite.harness.app);
    await expectProblem(await refused('&source=smtp'), 400, '/problems/validation-failed');
    const stuck = await refused('&stuck=true&source=acme');
    expect(stuck.status).toBe(400);
    expect(((await stuck.json()) as { errors: Array<{ field: string }> }).errors.map((error) => error.field)).toEqual(['source']);
  });
});

/**
 * Taking access away (issue 11 §5): a team's tokens and agents are listed without secrets, revoked
 * by the team's admin (idempotently, out of other teams' reach) and stop working at the next
 * request; the bootstrap token, once revoked, stays revoked when the API starts again, and the
 * operator's break-glass rotation gives it a new secret.
 */
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { loadConfig } from '../../cmd/config.js';
import { startApi } from '../../cmd/start-api.js';
import { listAuditEvents } from '../../db/audit.js';
import { newId } from '../../db/ids.js';
import { authHeaders, createToken, TEST_KEK_HEX } from '../support/harness.js';
import { useIntegrationSuite } from '../support/integration-suite.js';

const suite = useIntegrationSuite('tokens', { team: true, otherTeam: true });
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** `npm run cli -- token rotate-bootstrap`, the real entry point, as the operator runs it. */
async function rotateBootstrap(env: Record<string, string>): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'cmd/cli.ts', 'token', 'rotate-bootstrap'], { cwd: REPO_ROOT, env: { ...process.env, ...env } });
  return stdout.trim();
}

const get = (path: string, token: string) => suite.harness.app.request(path, { headers: authHeaders(token, false) });
const del = (path: string, token: string) => suite.harness.app.request(path, { method: 'DELETE', headers: authHeaders(token, false) });

interface TokenView {
  id: string;
  principalId: string;
  role: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** `cft_<id>_<secret>` / `cfa_<id>_<secret>`: the secret is base64url and may itself contain `_`. */
function secretPart(token: string): string {
  const secret = token.split('_').slice(2).join('_');
  expect(secret.length).toBeGreaterThanOrEqual(20);
  return secret;
}

describe('API tokens', () => {
  it('lists a team’s tokens without secrets, only to that team’s admins', async () => {
    const minted = await createToken(suite.harness, suite.team.teamId, 'approver');
    // Use it once so "last used" is set.
    expect((await get(`/v1/certificates?team=${suite.team.teamName}`, minted.token)).status).toBe(200);

    const response = await get(`/v1/teams/${suite.team.teamId}/tokens`, suite.team.admin);
    expect(response.status).toBe(200);
    const text = await response.text();
    for (const token of [minted.token, suite.team.admin, suite.team.requester]) expect(text).not.toContain(secretPart(token));
    expect(text).not.toMatch(/hash|"token"/i);
    const items = (JSON.parse(text) as { items: TokenView[] }).items;
    const listed = items.find((item) => item.id === minted.id);
    expect(listed).toMatchObject({ role: 'approver', revokedAt: null, expiresAt: null });
    expect(listed?.principalId).toMatch(/^prn_/);
    expect(listed?.lastUsedAt).not.toBeNull();
    expect(Object.keys(listed!).sort()).toEqual(['createdAt', 'expiresAt', 'id', 'lastUsedAt', 'principalId', 'revokedAt', 'role', 'teamId']);

    expect((await get(`/v1/teams/${suite.team.teamId}/tokens`, suite.otherTeam.admin)).status).toBe(404);
    expect((await get(`/v1/teams/${suite.team.teamId}/tokens`, suite.team.requester)).status).toBe(403);
  });

  it('revokes a token: 401 at its next request, idempotent, out of other teams’ reach, audited', async () => {
    const minted = await createToken(suite.harness, suite.team.teamId, 'requester');
    expect((await get(`/v1/certificates?team=${suite.team.teamName}`, minted.token)).status).toBe(200);

    expect((await del(`/v1/tokens/${minted.id}`, suite.otherTeam.admin)).status).toBe(404);
    expect((await del(`/v1/tokens/${minted.id}`, suite.team.requester)).status).toBe(403);
    expect((await get(`/v1/certificates?team=${suite.team.teamName}`, minted.token)).status).toBe(200);

    const revoked = await del(`/v1/tokens/${minted.id}`, suite.team.admin);
    expect(revoked.status).toBe(200);
    const first = (await revoked.json()) as TokenView;
    expect(first.revokedAt).not.toBeNull();
    const after = await get(`/v1/certificates?team=${suite.team.teamName}`, minted.token);
    expect(after.status).toBe(401);

    const again = await del(`/v1/tokens/${minted.id}`, suite.team.admin);
    expect(again.status).toBe(200);
    expect(((await again.json()) as TokenView).revokedAt).toBe(first.revokedAt);
    expect((await del('/v1/tokens/tok_doesnotexist', suite.team.admin)).status).toBe(404);

    const events = (await listAuditEvents(suite.harness.db, { teamId: suite.team.teamId, limit: 100 })).filter(
      (event) => event.action === 'token.revoked' && event.details.tokenId === minted.id,
    );
    expect(events).toHaveLength(1);
    expect(events[0]!.actor).toMatch(/^prn_/);
  });
});

describe('agents', () => {
  it('lists a team’s agents and revokes one: its token stops working at once', async () => {
    const registered = await suite.harness.app.request('/v1/agents', {
      method: 'POST',
      headers: authHeaders(suite.team.admin),
      body: JSON.stringify({ team: suite.team.teamName, name: `host-${newId('agt').slice(4, 10)}` }),
    });
    expect(registered.status).toBe(201);
    const agent = (await registered.json()) as { id: string; token: string };
    const poll = () => suite.harness.app.request('/v1/agent/assignments', { headers: authHeaders(agent.token, false) });
    expect((await poll()).status).toBe(200);

    const listed = await get(`/v1/teams/${suite.team.teamId}/agents`, suite.team.admin);
    expect(listed.status).toBe(200);
    const text = await listed.text();
    expect(text).not.toContain(secretPart(agent.token));
    const items = (JSON.parse(text) as { items: { id: string; lastSeenAt: string | null; revokedAt: string | null }[] }).items;
    expect(items.find((item) => item.id === agent.id)).toMatchObject({ revokedAt: null });
    expect(items.find((item) => item.id === agent.id)?.lastSeenAt).not.toBeNull();
    expect((await get(`/v1/teams/${suite.team.teamId}/agents`, suite.otherTeam.admin)).status).toBe(404);

    expect((await del(`/v1/agents/${agent.id}`, suite.otherTeam.admin)).status).toBe(404);
    const revoked = await del(`/v1/agents/${agent.id}`, suite.team.admin);
    expect(revoked.status).toBe(200);
    expect(((await revoked.json()) as { revokedAt: string | null }).revokedAt).not.toBeNull();
    expect((await poll()).status).toBe(401);
    expect((await del(`/v1/agents/${agent.id}`, suite.team.admin)).status).toBe(200);

    const actions = (await listAuditEvents(suite.harness.db, { teamId: suite.team.teamId, limit: 100 }))
      .filter((event) => event.details.agentId === agent.id)
      .map((event) => event.action)
      .reverse();
    expect(actions).toEqual(['agent.registered', 'agent.revoked']);
  });
});

describe('the bootstrap token', () => {
  it('stays revoked when the API starts again; the operator’s rotation gives it a new secret', async () => {
    // A database of its own: revoking the shared harness's bootstrap token would lock the other files out.
    const database = `bootstrap_${newId('tok').slice(4, 14)}`;
    await suite.harness.pool.query(`create database ${database}`);
    const url = new URL(suite.harness.databaseUrl);
    url.pathname = `/${database}`;
    const bootstrap = `cft_bootstrap_${newId('tok').slice(4)}-tokens-test`;
    const env = {
      DATABASE_URL: url.toString(),
      CERTFLOW_ACME_PORT: '0',
      TEMPORAL_ADDRESS: suite.harness.temporalAddress,
      TEMPORAL_NAMESPACE: suite.harness.namespace,
      CERTFLOW_KEK: TEST_KEK_HEX,
      CERTFLOW_BOOTSTRAP_TOKEN: bootstrap,
      CERTFLOW_DATA_DIR: await mkdtemp(join(inject('tempDir'), 'bootstrap-')),
      PORT: '0',
    };
    const start = () => startApi({ ...loadConfig(env), databaseUrl: env.DATABASE_URL, temporalAddress: env.TEMPORAL_ADDRESS }, () => undefined);
    const principals = (base: string, token: string) => fetch(`${base}/v1/principals`, { headers: authHeaders(token, false) });

    const first = await start();
    try {
      expect(first.bootstrapToken).toBe(bootstrap);
      expect((await principals(first.url, bootstrap)).status).toBe(200);
      const revoked = await fetch(`${first.url}/v1/tokens/tok_bootstrap`, { method: 'DELETE', headers: authHeaders(bootstrap, false) });
      expect(revoked.status).toBe(200);
      expect((await principals(first.url, bootstrap)).status).toBe(401);
    } finally {
      await first.stop();
    }

    const second = await start();
    try {
      expect(second.bootstrapToken).toBeNull();
      expect((await principals(second.url, bootstrap)).status).toBe(401);

      const rotated = await rotateBootstrap(env);
      expect(rotated).toMatch(/^cft_bootstrap_/);
      expect(rotated).not.toBe(bootstrap);
      expect((await principals(second.url, rotated)).status).toBe(200);
      expect((await principals(second.url, bootstrap)).status).toBe(401);
      const audit = await fetch(`${second.url}/v1/principals`, { headers: authHeaders(rotated, false) });
      expect(audit.status).toBe(200);
    } finally {
      await second.stop();
    }

    // The configured token does not come back at the next start either: the rotated one stays.
    const third = await start();
    try {
      expect(third.bootstrapToken).toBeNull();
      expect((await principals(third.url, bootstrap)).status).toBe(401);
    } finally {
      await third.stop();
    }
  });
});

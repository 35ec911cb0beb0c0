/**
 * The authorization matrix: every route of the API × every kind of caller (no token, the platform
 * admin, each role of the owning team, each role of another team, agents of both teams) answers
 * exactly the status the access rules give, against the real app, Postgres and Temporal.
 *
 * The rules (docs/security.md, "Authorization"):
 *   - public routes (health, PKI) answer everyone;
 *   - agent routes answer agent tokens only (401 otherwise); another team's agent gets 404;
 *   - API routes need an API token (401 otherwise; agent tokens are not API tokens);
 *   - platform routes answer the platform admin only (403 for everyone else);
 *   - team routes answer the platform admin and the owning team's roles that the route allows
 *     (a team admin holds every role of its team); a role the route does not allow gets 403;
 *     another team's resource named in the path is not found (404); another team named in a body
 *     or query is forbidden (403) where the route says so (certificate requests, listings, bulk
 *     selectors), else not found (agent registration).
 * Every route the app serves must have a row here: a new route without one fails the test.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes, webcrypto } from 'node:crypto';
import { x509 } from '../../ca/x509.js';
import type { Role } from '../../core/types.js';
import { authHeaders, createTeamWithTokens, createToken, eventually, TEST_BOOTSTRAP_TOKEN, type Harness } from '../support/harness.js';
import { EabSecret } from '../../api/acme/eab.js';
import { createApp } from '../../api/app.js';
import { createOidcVerifier } from '../../api/oidc.js';
import { loadConfig } from '../../cmd/config.js';
import { createEabKey } from '../../db/acme-accounts.js';
import { BOOTSTRAP_PRINCIPAL_ID } from '../../db/principals.js';
import { useIntegrationSuite } from '../support/integration-suite.js';
import { startOidcIssuer } from '../support/oidc-issuer.js';

type TeamSide = 'own' | 'other';
type Caller =
  | { name: string; kind: 'anonymous' }
  | { name: string; kind: 'platform'; token: string }
  | { name: string; kind: 'team'; side: TeamSide; role: Role; token: string }
  | { name: string; kind: 'agent'; side: TeamSide; token: string };

type Access =
  | { kind: 'public' }
  | { kind: 'agent'; otherAgent: 200 | 404 }
  | { kind: 'authenticated' }
  | { kind: 'platform'; otherTeamAdmin?: 404 }
  | { kind: 'team'; roles: readonly Role[]; otherTeam: 200 | 403 | 404 };

interface Request {
  path: string;
  body?: unknown;
}

interface RouteCase {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** The route as the app declares it (Hono's pattern). */
  route: string;
  access: Access;
  /** The status of an authorized call (2xx, or the domain answer named in `why`). */
  authorized: number;
  why?: string;
  /** The request a caller makes; `authorized` says whether this call is expected to pass the access rules (fresh resources then). */
  request(context: CellContext): Promise<Request>;
}

interface CellContext {
  caller: Caller;
  authorized: boolean;
}

const OIDC_AUDIENCE = 'https://certflow.matrix.test';
const ROLES: readonly Role[] = ['requester', 'approver', 'responder', 'admin'];
const ALL_TEAM_ROLES = ROLES;

const suite = useIntegrationSuite('authz-matrix', { worker: true });

/** The owning team (A) and another team (B), with a token of each role, an agent each, and the shared resources of A. */
interface World {
  harness: Harness;
  own: { teamId: string; teamName: string; tokens: Record<Role, string>; agentId: string; agentToken: string; spareTokenId: string; sparePrincipalId: string; spareEabKeyId: string; spareContactId: string };
  other: { teamId: string; teamName: string; tokens: Record<Role, string>; agentToken: string };
  /** An issued certificate of A. */
  issued: string;
  /** A certificate of A waiting for approval. */
  pending: string;
  /** A finished bulk operation of A. */
  bulk: string;
  rootIssuerId: string;
  /** A registered Kubernetes cluster where A has a namespace. */
  clusterId: string;
}

const APPROVAL_POLICY = {
  allowedDomains: ['example.test'],
  maxValidity: 'P30D',
  keyAlgorithms: ['ECDSA-P256'],
  approval: { validityAbove: 'P2D' },
};

async function api(harness: Pick<Harness, 'app'>, method: string, path: string, token: string | null, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = token ? authHeaders(token, body !== undefined) : body !== undefined ? { 'Content-Type': 'application/json' } : {};
  return harness.app.request(path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
}

async function expectStatus(response: Response, status: number, what: string): Promise<unknown> {
  const text = await response.text();
  expect(response.status, `${what}: ${text}`).toBe(status);
  return text.startsWith('{') ? JSON.parse(text) : text;
}

async function makeTeam(harness: Harness, policy?: Record<string, unknown>) {
  const team = await createTeamWithTokens(harness, policy ? { policy } : {});
  const tokens = { requester: team.requester, admin: team.admin } as Record<Role, string>;
  for (const role of ['approver', 'responder'] as const) tokens[role] = (await createToken(harness, team.teamId, role)).token;
  const agent = (await expectStatus(await api(harness, 'POST', '/v1/agents', team.admin, { team: team.teamId, name: `host-${team.teamId.slice(-6)}` }), 201, 'agent registration')) as {
    id: string;
    token: string;
  };
  return { teamId: team.teamId, teamName: team.teamName, tokens, agentId: agent.id, agentToken: agent.token };
}

let nameCounter = 0;
const uniqueName = (prefix: string) => `${prefix}${++nameCounter}-${Date.now().toString(36)}`;

async function createCertificate(world: World, body: Record<string, unknown> = {}): Promise<string> {
  const answer = (await expectStatus(
    await api(world.harness, 'POST', '/v1/certificates', world.own.tokens.requester, { team: world.own.teamId, dnsNames: [`${uniqueName('c')}.example.test`], validity: 'P1D', ...body }),
    202,
    'certificate request',
  )) as { id: string };
  return answer.id;
}

async function waitForState(world: World, id: string, states: string[]): Promise<void> {
  await eventually(
    async () => {
      const view = (await (await api(world.harness, 'GET', `/v1/certificates/${id}`, TEST_BOOTSTRAP_TOKEN)).json()) as { state: string };
      return states.includes(view.state) ? true : undefined;
    },
    { timeoutMs: 60_000, what: `certificate ${id} to reach ${states.join('/')}` },
  );
}

async function pendingApproval(world: World): Promise<string> {
  const id = await createCertificate(world, { validity: 'P3D' });
  await eventually(async () => ((await api(world.harness, 'GET', `/v1/certificates/${id}/approval`, TEST_BOOTSTRAP_TOKEN)).status === 200 ? true : undefined), {
    timeoutMs: 60_000,
    what: `the approval request of ${id}`,
  });
  return id;
}

/** A bulk operation of A that keeps running for a while: one at a time, over every certificate of A. */
async function runningBulk(world: World): Promise<string> {
  const answer = (await expectStatus(
    await api(world.harness, 'POST', '/v1/bulk-reissues', world.own.tokens.responder, { selector: { teams: [world.own.teamId] }, reason: 'matrix', maxConcurrent: 1, maxPerSecond: 1 }),
    202,
    'bulk reissue',
  )) as { id: string };
  return answer.id;
}

async function agentCsrCertificate(world: World): Promise<{ id: string; dnsName: string }> {
  const dnsName = `${uniqueName('agent')}.example.test`;
  const id = await createCertificate(world, { dnsNames: [dnsName], destinations: [{ type: 'agent', agentId: world.own.agentId, target: 'web', reportTimeout: 600 }] });
  await eventually(
    async () => {
      const assignments = (await (await api(world.harness, 'GET', '/v1/agent/assignments', world.own.agentToken)).json()) as { csrRequests: { certificateId: string }[] };
      return assignments.csrRequests.some((request) => request.certificateId === id) ? true : undefined;
    },
    { timeoutMs: 60_000, what: `the agent's CSR request for ${id}` },
  );
  return { id, dnsName };
}

async function registerAgent(world: World): Promise<string> {
  const response = await api(world.harness, 'POST', '/v1/agents', TEST_BOOTSTRAP_TOKEN, { team: world.own.teamId, name: uniqueName('host-') });
  return ((await expectStatus(response, 201, 'agent registration')) as { id: string }).id;
}

async function createPrincipal(world: World): Promise<string> {
  const response = await api(world.harness, 'POST', '/v1/principals', TEST_BOOTSTRAP_TOKEN, { kind: 'person', name: uniqueName('person '), team: world.own.teamId });
  return ((await expectStatus(response, 201, 'principal')) as { id: string }).id;
}

/** A notification contact of A, added by the platform admin: its id. */
async function teamContact(world: World): Promise<string> {
  const response = await api(world.harness, 'POST', `/v1/teams/${world.own.teamId}/contacts`, TEST_BOOTSTRAP_TOKEN, { channel: 'email', address: 'spare@example.test' });
  return ((await expectStatus(response, 201, 'contact')) as { id: string }).id;
}

/** An ACME EAB key of A (stored directly: harness.app serves no ACME, and revoking needs no MAC key): its id. */
async function eabKey(world: World): Promise<string> {
  return (await createEabKey(world.harness.db, { teamId: world.own.teamId, createdByPrincipal: BOOTSTRAP_PRINCIPAL_ID })).id;
}

async function csrFor(dnsName: string): Promise<string> {
  const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${dnsName}`,
    keys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: dnsName }])],
  });
  return csr.toString('pem');
}

function routeCases(world: () => World): RouteCase[] {
  const team = (roles: readonly Role[], otherTeam: 200 | 403 | 404 = 404): Access => ({ kind: 'team', roles, otherTeam });
  const fixed = (path: string, body?: unknown) => async () => ({ path, body });
  return [
    { method: 'GET', route: '/healthz', access: { kind: 'public' }, authorized: 200, request: fixed('/healthz') },
    { method: 'GET', route: '/readyz', access: { kind: 'public' }, authorized: 200, request: fixed('/readyz') },
    { method: 'GET', route: '/pki/roots.pem', access: { kind: 'public' }, authorized: 200, request: fixed('/pki/roots.pem') },
    { method: 'GET', route: '/pki/issuers/:file', access: { kind: 'public' }, authorized: 200, request: async () => ({ path: `/pki/issuers/${world().rootIssuerId}.crt` }) },
    {
      method: 'POST',
      route: '/pki/ocsp',
      access: { kind: 'public' },
      authorized: 200,
      why: 'an OCSP answer (malformedRequest for an empty body) is always 200 per RFC 6960',
      request: fixed('/pki/ocsp', ''),
    },
    { method: 'GET', route: '/pki/ocsp/:request{.+}', access: { kind: 'public' }, authorized: 200, why: 'malformedRequest, as above', request: fixed('/pki/ocsp/AAAA') },

    { method: 'GET', route: '/v1/agent/assignments', access: { kind: 'agent', otherAgent: 200 }, authorized: 200, request: fixed('/v1/agent/assignments') },
    {
      method: 'POST',
      route: '/v1/agent/csr',
      access: { kind: 'agent', otherAgent: 404 },
      authorized: 200,
      async request({ authorized }) {
        const { id, dnsName } = authorized ? await agentCsrCertificate(world()) : { id: world().issued, dnsName: 'agent.example.test' };
        return { path: '/v1/agent/csr', body: { certificateId: id, generation: 1, csr: await csrFor(dnsName) } };
      },
    },
    {
      method: 'POST',
      route: '/v1/agent/deployments/:deliveryId/report',
      access: { kind: 'agent', otherAgent: 404 },
      authorized: 404,
      why: "no delivery of this agent has that id: the agent's own deployments are tested in agent.test.ts; this row proves other tokens are refused before the lookup",
      request: fixed('/v1/agent/deployments/dlv_0000000000000000/report', { ok: true, serial: '01' }),
    },

    {
      method: 'POST',
      route: '/v1/certificates',
      access: team(['requester'], 403),
      authorized: 202,
      request: async () => ({ path: '/v1/certificates', body: { team: world().own.teamId, dnsNames: [`${uniqueName('m')}.example.test`], validity: 'P1D' } }),
    },
    { method: 'GET', route: '/v1/certificates', access: team(ALL_TEAM_ROLES, 403), authorized: 200, request: async () => ({ path: `/v1/certificates?team=${world().own.teamId}` }) },
    { method: 'GET', route: '/v1/certificates/:id', access: team(ALL_TEAM_ROLES), authorized: 200, request: async () => ({ path: `/v1/certificates/${world().issued}` }) },
    { method: 'GET', route: '/v1/certificates/:id/certificate.pem', access: team(ALL_TEAM_ROLES), authorized: 200, request: async () => ({ path: `/v1/certificates/${world().issued}/certificate.pem` }) },
    {
      method: 'POST',
      route: '/v1/certificates/:id/renew',
      access: team(['requester', 'responder']),
      authorized: 202,
      request: async () => ({ path: `/v1/certificates/${world().issued}/renew`, body: { reason: 'matrix' } }),
    },
    {
      method: 'POST',
      route: '/v1/certificates/:id/revoke',
      access: team(['requester', 'responder']),
      authorized: 202,
      request: async ({ authorized }) => ({ path: `/v1/certificates/${authorized ? await createCertificate(world()) : world().issued}/revoke`, body: { reason: 'superseded' } }),
    },
    ...(['approve', 'reject'] as const).map(
      (decision): RouteCase => ({
        method: 'POST',
        route: `/v1/certificates/:id/${decision}`,
        access: team(['approver']),
        authorized: 200,
        request: async ({ authorized }) => ({ path: `/v1/certificates/${authorized ? await pendingApproval(world()) : world().pending}/${decision}`, body: { reason: 'matrix' } }),
      }),
    ),
    { method: 'GET', route: '/v1/certificates/:id/approval', access: team(ALL_TEAM_ROLES), authorized: 200, request: async () => ({ path: `/v1/certificates/${world().pending}/approval` }) },
    { method: 'GET', route: '/v1/certificates/:id/audit-events', access: team(ALL_TEAM_ROLES), authorized: 200, request: async () => ({ path: `/v1/certificates/${world().issued}/audit-events` }) },
    { method: 'POST', route: '/v1/certificates/:id/retry-rollout', access: team(['requester', 'responder']), authorized: 202, request: async () => ({ path: `/v1/certificates/${world().issued}/retry-rollout` }) },

    { method: 'POST', route: '/v1/teams', access: { kind: 'platform' }, authorized: 201, request: async () => ({ path: '/v1/teams', body: { name: uniqueName('team-'), policy: APPROVAL_POLICY } }) },
    { method: 'GET', route: '/v1/teams/:id', access: team(ALL_TEAM_ROLES), authorized: 200, request: async () => ({ path: `/v1/teams/${world().own.teamId}` }) },
    {
      method: 'PATCH',
      route: '/v1/teams/:id',
      access: { kind: 'platform', otherTeamAdmin: 404 },
      authorized: 200,
      why: 'a team never changes its own policy; an admin of another team does not see the team',
      request: async () => ({ path: `/v1/teams/${world().own.teamId}`, body: { policy: { maxValidity: 'P30D' } } }),
    },
    { method: 'POST', route: '/v1/teams/:id/tokens', access: team(['admin']), authorized: 201, request: async () => ({ path: `/v1/teams/${world().own.teamId}/tokens`, body: { role: 'requester' } }) },

    { method: 'GET', route: '/v1/teams/:id/tokens', access: team(['admin']), authorized: 200, request: async () => ({ path: `/v1/teams/${world().own.teamId}/tokens` }) },
    {
      method: 'DELETE',
      route: '/v1/tokens/:id',
      access: team(['admin']),
      authorized: 200,
      request: async ({ authorized }) => ({ path: `/v1/tokens/${authorized ? (await createToken(world().harness, world().own.teamId, 'requester')).id : world().own.spareTokenId}` }),
    },
    // Inventory: a body of one bad block (reported per item, nothing stored); a scan of the discard port (nothing listens).
    { method: 'POST', route: '/v1/teams/:id/imports', access: team(['admin']), authorized: 200, request: async () => ({ path: `/v1/teams/${world().own.teamId}/imports`, body: { files: [{ name: 'matrix.pem', pem: 'not pem' }] } }) },
    { method: 'POST', route: '/v1/teams/:id/scans', access: team(['admin']), authorized: 202, request: async () => ({ path: `/v1/teams/${world().own.teamId}/scans`, body: { targets: ['127.0.0.1:9'] } }) },
    {
      method: 'GET',
      route: '/v1/teams/:id/scans/:scanId',
      access: team(['admin']),
      authorized: 404,
      why: 'no such scan: the team and role are checked first',
      request: async () => ({ path: `/v1/teams/${world().own.teamId}/scans/scan_matrix` }),
    },
    { method: 'GET', route: '/v1/certificates/:id/inventory', access: team(ALL_TEAM_ROLES), authorized: 200, request: async () => ({ path: `/v1/certificates/${world().issued}/inventory` }) },
    {
      method: 'POST',
      route: '/v1/certificates/:id/adopt',
      access: team(['requester']),
      authorized: 409,
      why: 'a managed certificate is not adopted (only imported or discovered ones)',
      request: async () => ({ path: `/v1/certificates/${world().issued}/adopt` }),
    },
    { method: 'GET', route: '/v1/teams/:id/agents', access: team(['admin']), authorized: 200, request: async () => ({ path: `/v1/teams/${world().own.teamId}/agents` }) },
    { method: 'POST', route: '/v1/teams/:id/acme-eab-keys', access: team(['admin']), authorized: 201, request: async () => ({ path: `/v1/teams/${world().own.teamId}/acme-eab-keys` }) },
    { method: 'GET', route: '/v1/teams/:id/acme-eab-keys', access: team(['admin']), authorized: 200, request: async () => ({ path: `/v1/teams/${world().own.teamId}/acme-eab-keys` }) },
    {
      method: 'DELETE',
      route: '/v1/teams/:id/acme-eab-keys/:keyId',
      access: team(['admin']),
      authorized: 200,
      request: async ({ authorized }) => ({ path: `/v1/teams/${world().own.teamId}/acme-eab-keys/${authorized ? await eabKey(world()) : world().own.spareEabKeyId}` }),
    },
    { method: 'POST', route: '/v1/teams/:id/contacts', access: team(['admin']), authorized: 201, request: async () => ({ path: `/v1/teams/${world().own.teamId}/contacts`, body: { channel: 'email', address: 'matrix@example.test' } }) },
    { method: 'GET', route: '/v1/teams/:id/contacts', access: team(['admin']), authorized: 200, request: async () => ({ path: `/v1/teams/${world().own.teamId}/contacts` }) },
    {
      method: 'DELETE',
      route: '/v1/teams/:id/contacts/:contactId',
      access: team(['admin']),
      authorized: 200,
      request: async ({ authorized }) => ({ path: `/v1/teams/${world().own.teamId}/contacts/${authorized ? await teamContact(world()) : world().own.spareContactId}` }),
    },
    {
      method: 'DELETE',
      route: '/v1/agents/:id',
      access: team(['admin']),
      authorized: 200,
      request: async ({ authorized }) => ({ path: `/v1/agents/${authorized ? await registerAgent(world()) : world().own.agentId}` }),
    },
    { method: 'POST', route: '/v1/principals', access: team(['admin'], 404), authorized: 201, request: async () => ({ path: '/v1/principals', body: { kind: 'person', name: uniqueName('person '), team: world().own.teamId } }) },
    { method: 'GET', route: '/v1/principals', access: team(['admin'], 404), authorized: 200, request: async () => ({ path: `/v1/principals?team=${world().own.teamId}` }) },
    {
      method: 'DELETE',
      route: '/v1/principals/:id',
      access: team(['admin']),
      authorized: 200,
      request: async ({ authorized }) => ({ path: `/v1/principals/${authorized ? await createPrincipal(world()) : world().own.sparePrincipalId}` }),
    },

    { method: 'GET', route: '/v1/issuers', access: { kind: 'authenticated' }, authorized: 200, request: fixed('/v1/issuers') },
    { method: 'GET', route: '/v1/errors', access: { kind: 'authenticated' }, authorized: 200, request: fixed('/v1/errors') },
    // How to log in, asked before logging in (the matrix app offers OIDC login).
    { method: 'GET', route: '/v1/auth/oidc', access: { kind: 'public' }, authorized: 200, request: fixed('/v1/auth/oidc') },
    { method: 'GET', route: '/v1/auth/whoami', access: { kind: 'authenticated' }, authorized: 200, request: fixed('/v1/auth/whoami') },
    {
      method: 'POST',
      route: '/v1/issuers/:id/compromise',
      access: { kind: 'platform' },
      authorized: 409,
      why: 'a root is refused by the drill itself (the drill is run in issuer-compromise.test.ts; running it here would replace the shared intermediate)',
      request: async () => ({ path: `/v1/issuers/${world().rootIssuerId}/compromise`, body: { reason: 'matrix' } }),
    },
    {
      method: 'GET',
      route: '/v1/issuers/:id/compromise',
      access: { kind: 'platform' },
      authorized: 404,
      why: 'no drill ever runs on the root',
      request: async () => ({ path: `/v1/issuers/${world().rootIssuerId}/compromise` }),
    },

    { method: 'POST', route: '/v1/agents', access: team(['admin'], 404), authorized: 201, request: async () => ({ path: '/v1/agents', body: { team: world().own.teamId, name: uniqueName('host-') } }) },

    { method: 'POST', route: '/v1/clusters', access: { kind: 'platform' }, authorized: 201, request: async () => ({ path: '/v1/clusters', body: await clusterBody(world()) }) },
    { method: 'GET', route: '/v1/clusters', access: { kind: 'authenticated' }, authorized: 200, request: fixed('/v1/clusters') },
    {
      method: 'GET',
      route: '/v1/clusters/:id',
      access: team(ALL_TEAM_ROLES, 404),
      authorized: 200,
      why: 'a team sees a cluster only where it has namespaces',
      request: async () => ({ path: `/v1/clusters/${world().clusterId}` }),
    },
    {
      method: 'PATCH',
      route: '/v1/clusters/:id',
      access: { kind: 'platform' },
      authorized: 200,
      request: async () => ({ path: `/v1/clusters/${world().clusterId}`, body: { namespaces: [{ team: world().own.teamId, namespaces: ['matrix'] }] } }),
    },

    {
      method: 'POST',
      route: '/v1/bulk-reissues',
      access: team(['responder'], 403),
      authorized: 200,
      why: 'a dry run (the preview); starting one is the same check',
      request: async () => ({ path: '/v1/bulk-reissues', body: { selector: { teams: [world().own.teamId] }, reason: 'matrix', dryRun: true } }),
    },
    // A listing of the caller's own team's operations: another team's responder gets its own (200); the dashboard test checks what each sees.
    { method: 'GET', route: '/v1/bulk-reissues', access: team(['responder'], 200), authorized: 200, request: fixed('/v1/bulk-reissues') },
    { method: 'GET', route: '/v1/bulk-reissues/:id', access: team(['responder']), authorized: 200, request: async () => ({ path: `/v1/bulk-reissues/${world().bulk}` }) },
    ...(['pause', 'resume', 'cancel'] as const).map(
      (action): RouteCase => ({
        method: 'POST',
        route: `/v1/bulk-reissues/:id/${action}`,
        access: team(['responder']),
        authorized: 200,
        async request({ authorized }) {
          if (!authorized) return { path: `/v1/bulk-reissues/${world().bulk}/${action}` };
          const id = await runningBulk(world());
          if (action === 'resume') await expectStatus(await api(world().harness, 'POST', `/v1/bulk-reissues/${id}/pause`, TEST_BOOTSTRAP_TOKEN), 200, 'pause before resume');
          return { path: `/v1/bulk-reissues/${id}/${action}` };
        },
      }),
    ),
  ];
}

/** A cluster registration (the API server is never contacted); A may use namespace `matrix`. */
async function clusterBody(world: World): Promise<Record<string, unknown>> {
  const caBundle = await (await world.harness.app.request('/pki/roots.pem')).text();
  return { name: uniqueName('cluster-').toLowerCase().replace(/[^a-z0-9-]/g, '-'), apiUrl: 'https://k8s.example.test', caBundle, token: 'x'.repeat(32), namespaces: [{ team: world.own.teamId, namespaces: ['matrix'] }] };
}

/** The status a caller must get on a route, per the rules at the top of this file. */
function expectedStatus(access: Access, caller: Caller, authorized: number): number {
  switch (access.kind) {
    case 'public':
      return authorized;
    case 'agent':
      if (caller.kind !== 'agent') return 401;
      return caller.side === 'own' ? authorized : access.otherAgent;
    default:
      if (caller.kind === 'anonymous' || caller.kind === 'agent') return 401;
      if (caller.kind === 'platform') return authorized;
      if (access.kind === 'authenticated') return authorized;
      if (access.kind === 'platform') return caller.role === 'admin' && caller.side === 'other' && access.otherTeamAdmin ? access.otherTeamAdmin : 403;
      if (caller.role !== 'admin' && !access.roles.includes(caller.role)) return 403;
      return caller.side === 'own' ? authorized : access.otherTeam;
  }
}

function callersOf(world: World, oidc: Caller[]): Caller[] {
  const teamCallers = (side: TeamSide, tokens: Record<Role, string>): Caller[] => ROLES.map((role) => ({ name: `${side} team ${role}`, kind: 'team', side, role, token: tokens[role] }));
  return [
    { name: 'no token', kind: 'anonymous' },
    { name: 'platform admin', kind: 'platform', token: TEST_BOOTSTRAP_TOKEN },
    ...teamCallers('own', world.own.tokens),
    ...teamCallers('other', world.other.tokens),
    ...oidc,
    { name: 'own team agent', kind: 'agent', side: 'own', token: world.own.agentToken },
    { name: 'other team agent', kind: 'agent', side: 'other', token: world.other.agentToken },
  ];
}

function tokenOf(caller: Caller): string | null {
  return caller.kind === 'anonymous' ? null : caller.token;
}

describe('authorization matrix', () => {
  let world: World;

  it('every route × caller answers exactly what the access rules say', { timeout: 900_000 }, async () => {
    const harness = suite.harness;
    const own = await makeTeam(harness, APPROVAL_POLICY);
    const other = await makeTeam(harness);
    const [root] = await harness.pool.query<{ id: string }>(`select id from issuers where kind = 'root' limit 1`).then((result) => result.rows);
    world = { harness, own: { ...own, spareTokenId: '', sparePrincipalId: '', spareEabKeyId: '', spareContactId: '' }, other, issued: '', pending: '', bulk: '', rootIssuerId: root!.id, clusterId: '' };
    // Refused calls aim at these; were one wrongly allowed, it would end only a spare.
    world.own.spareTokenId = (await createToken(harness, own.teamId, 'requester')).id;
    world.own.sparePrincipalId = await createPrincipal(world);
    world.own.spareEabKeyId = await eabKey(world);
    world.own.spareContactId = await teamContact(world);
    world.issued = await createCertificate(world);
    await waitForState(world, world.issued, ['active']);
    world.pending = await pendingApproval(world);
    world.clusterId = ((await expectStatus(await api(harness, 'POST', '/v1/clusters', TEST_BOOTSTRAP_TOKEN, await clusterBody(world)), 201, 'cluster')) as { id: string }).id;
    world.bulk = ((await expectStatus(await api(harness, 'POST', '/v1/bulk-reissues', own.tokens.responder, { selector: { serials: ['7fffffffffffffff'] }, reason: 'matrix' }), 202, 'finished bulk')) as { id: string }).id;

    const cases = routeCases(() => world);
    // The dashboard (/ui) takes no bearer token but a session cookie; test/integration/dashboard.test.ts covers who sees what there.
    const declared = new Set(harness.app.routes.filter((route) => route.method !== 'ALL' && route.path !== '/ui' && !route.path.startsWith('/ui/')).map((route) => `${route.method} ${route.path}`));
    const covered = new Set(cases.map((row) => `${row.method} ${row.route}`));
    expect([...declared].filter((route) => !covered.has(route)), 'routes without a row in the matrix').toEqual([]);
    expect([...covered].filter((route) => !declared.has(route)), 'rows for routes the app does not serve').toEqual([]);

    // OpenID Connect callers (a real provider on loopback): the cells go to an app that accepts its tokens as well as API tokens.
    const idp = await startOidcIssuer({
      audience: OIDC_AUDIENCE,
      clients: [
        { id: 'own-requester', claims: { certflow_team: own.teamId, certflow_role: 'requester', name: 'Olga Requester' } },
        { id: 'own-approver', claims: { certflow_team: own.teamId, certflow_role: 'approver', name: 'Otto Approver' } },
        { id: 'other-admin', claims: { certflow_team: other.teamId, certflow_role: 'admin', name: 'Ada Other' } },
      ],
    });
    // ACME on (harness.app serves none: a new EAB key there is 503), and OIDC.
    const matrixApp = {
      app: createApp({
        ...harness.apiDeps,
        acme: { eabSecret: EabSecret.fromBytes(randomBytes(32)), allowUnboundAccounts: false, validitySeconds: 7 * 86_400 },
        oidc: createOidcVerifier(loadConfig({ CERTFLOW_OIDC_ISSUER: idp.issuer, CERTFLOW_OIDC_AUDIENCE: OIDC_AUDIENCE }).oidc!),
        oidcLogin: { issuer: idp.issuer, audience: OIDC_AUDIENCE, cliClientId: 'certflow-cli' },
      }),
    };
    const oidcCallers: Caller[] = [
      { name: 'own team requester (OIDC)', kind: 'team', side: 'own', role: 'requester', token: await idp.accessToken('own-requester') },
      { name: 'own team approver (OIDC)', kind: 'team', side: 'own', role: 'approver', token: await idp.accessToken('own-approver') },
      { name: 'other team admin (OIDC)', kind: 'team', side: 'other', role: 'admin', token: await idp.accessToken('other-admin') },
    ];

    const mismatches: string[] = [];
    let cells = 0;
    for (const row of cases) {
      // Refused calls first (on the shared resources), then the authorized ones (each on fresh resources where they change state).
      const callers = callersOf(world, oidcCallers).sort((a, b) => Number(expectedStatus(row.access, a, row.authorized) === row.authorized) - Number(expectedStatus(row.access, b, row.authorized) === row.authorized));
      for (const caller of callers) {
        const expected = expectedStatus(row.access, caller, row.authorized);
        const request = await row.request({ caller, authorized: expected === row.authorized && row.access.kind !== 'public' });
        const response = await api(matrixApp, row.method, request.path, tokenOf(caller), request.body);
        cells++;
        if (response.status !== expected) mismatches.push(`${row.method} ${row.route} as ${caller.name}: expected ${expected}, got ${response.status} ${(await response.text()).slice(0, 200)}`);
        else if (response.status >= 400 && !(response.headers.get('content-type') ?? '').startsWith('application/problem+json')) {
          mismatches.push(`${row.method} ${row.route} as ${caller.name}: ${response.status} is not application/problem+json`);
        }
      }
    }
    await idp.close();
    console.log(`authorization matrix: ${cases.length} routes × ${callersOf(world, oidcCallers).length} callers = ${cells} cells`);
    expect(mismatches).toEqual([]);
  });
});

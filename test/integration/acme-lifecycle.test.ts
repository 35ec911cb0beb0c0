/**
 * The lifecycle of ACME certificates as an operator and a client see it: Certflow never renews one
 * by itself. Past the end of its ARI window (RFC 9773) a certificate whose client does not come shows
 * `renewal_overdue` (in the API's view, from the workflow's status query, and in the CertState
 * search attribute) until the client's replacement order arrives as generation 2. An operator's
 * renew, or a revocation, moves the renewal window into the past with an explanation; a certificate
 * is replaced by one order only. The client is test/support/acme-in-process.ts (no TLS, team policy
 * `acme.preauthorized`); the certIDs come from core/ari.ts formatAriCertId.
 */
import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { EabSecret } from '../../api/acme/eab.js';
import type { AcmeDeps } from '../../api/acme/context.js';
import { createApp } from '../../api/app.js';
import { x509 } from '../../ca/x509.js';
import { SEARCH_ATTRIBUTE_KEYS } from '../../core/search-attributes.js';
import { certificates } from '../../db/schema.js';
import { ariCertIdOf, InProcessAcmeClient, versionOfLeaf, type ObtainedCertificate } from '../support/acme-in-process.js';
import { authHeaders, createTeamWithTokens, eventually, type Team } from '../support/harness.js';
import { certificatesAs, useIntegrationSuite } from '../support/integration-suite.js';

const suite = useIntegrationSuite('acme-lifecycle', { worker: true });

/** 30 s certificates (the team's maxValidity; the tests' API has only the schema's 15 s floor): the ARI window ends ~25 s after issuance. */
const SHORT_VALIDITY = 'PT30S';

interface CertificateView {
  id: string;
  workflowId: string;
  state: string;
  pendingStep: string | null;
  source: string;
  currentVersion: { generation: number; serial: string } | null;
}

interface RenewalInfo {
  suggestedWindow: { start: string; end: string };
  explanationURL?: string;
}

let deps: AcmeDeps;
let rest: ReturnType<typeof createApp>;
let shortTeam: Team;
let team: Team;
let shortClient: InProcessAcmeClient;
let client: InProcessAcmeClient;
let names = 0;

async function acmeTeam(maxValidity: string): Promise<Team> {
  return createTeamWithTokens(suite.harness, { policy: { allowedDomains: ['lifecycle.example.test'], maxValidity, acme: { preauthorized: true } } });
}

beforeAll(async () => {
  deps = { ...suite.harness.apiDeps, acme: { eabSecret: EabSecret.fromBytes(randomBytes(32)), allowUnboundAccounts: false, validitySeconds: 7 * 86_400 } };
  rest = createApp(deps);
  shortTeam = await acmeTeam(SHORT_VALIDITY);
  team = await acmeTeam('P30D');
  shortClient = await InProcessAcmeClient.register({ deps, rest, teamId: shortTeam.teamId, token: shortTeam.admin });
  client = await InProcessAcmeClient.register({ deps, rest, teamId: team.teamId, token: team.admin });
});

/** Names of their own for each certificate: an order from the same account for the same names without `replaces` would renew an earlier one. */
function freshNames(label: string): string[] {
  return [`${label}-${++names}.lifecycle.example.test`];
}

/** A certificate the client obtained, once its lifecycle waits for the client's renewal. */
async function obtained(acme: InProcessAcmeClient, owner: Team, label: string) {
  const names = freshNames(label);
  const leaf = await acme.obtain(names);
  const { certificateId } = await versionOfLeaf(suite.harness.db, leaf.leafPem);
  const view = await certificatesAs(rest, owner.requester).waitFor<CertificateView>(certificateId, (current) => current.state === 'active' && current.pendingStep === 'wait-for-renewal', {
    timeoutMs: 30_000,
    what: `${names[0]} waiting for its client`,
  });
  expect(view).toMatchObject({ source: 'acme', currentVersion: { generation: 1 } });
  return { names, leaf, certificateId, workflowId: view.workflowId, certId: ariCertIdOf(leaf.leafPem) };
}

async function renewalInfo(certId: string): Promise<{ info: RenewalInfo; retryAfter: string | null }> {
  const response = await client.get(`/acme/renewal-info/${certId}`);
  expect(response.status, await response.clone().text()).toBe(200);
  return { info: (await response.json()) as RenewalInfo, retryAfter: response.headers.get('retry-after') };
}

async function certState(workflowId: string): Promise<string | undefined> {
  const described = await suite.harness.client.workflow.getHandle(workflowId).describe();
  return described.typedSearchAttributes.get(SEARCH_ATTRIBUTE_KEYS.certState);
}

function notAfterOf(leaf: ObtainedCertificate): number {
  return new x509.X509Certificate(leaf.leafPem).notAfter.getTime();
}

describe('ACME certificate lifecycle', () => {
  it('shows renewal_overdue after the ARI window ends without the client, and active generation 2 once the client renews', async () => {
    const certificate = await obtained(shortClient, shortTeam, 'overdue');
    const view = certificatesAs(rest, shortTeam.requester);
    const { info } = await renewalInfo(certificate.certId);
    const windowEnd = Date.parse(info.suggestedWindow.end);
    expect(info.explanationURL).toBeUndefined();
    expect(windowEnd).toBeLessThan(notAfterOf(certificate.leaf));
    expect(await certState(certificate.workflowId)).toBe('active');

    const overdue = await view.waitFor<CertificateView>(certificate.certificateId, (current) => current.state === 'renewal_overdue', { timeoutMs: 60_000, what: 'renewal_overdue' });
    // Not before the window the client was told ends.
    expect(Date.now()).toBeGreaterThanOrEqual(windowEnd);
    expect(overdue).toMatchObject({ pendingStep: 'wait-for-renewal', currentVersion: { generation: 1 } });
    await eventually(async () => ((await certState(certificate.workflowId)) === 'renewal_overdue' ? true : undefined), { timeoutMs: 10_000, what: 'CertState renewal_overdue' });
    // Stored too, so that lists and alerts that read Postgres see it.
    await eventually(async () => ((await storedState(certificate.certificateId)) === 'renewal_overdue' ? true : undefined), { timeoutMs: 10_000, what: 'stored renewal_overdue' });

    await shortClient.obtain(certificate.names, { replaces: certificate.certId });
    const renewed = await view.waitFor<CertificateView>(certificate.certificateId, (current) => current.state === 'active' && current.currentVersion?.generation === 2, {
      timeoutMs: 15_000,
      what: 'generation 2 active',
    });
    expect(renewed.currentVersion!.serial).not.toBe(overdue.currentVersion!.serial);
    expect(await storedState(certificate.certificateId)).toBe('active');
    await eventually(async () => ((await certState(certificate.workflowId)) === 'active' ? true : undefined), { timeoutMs: 10_000, what: 'CertState active again' });
  });

  it("answers the normal renewal window until an operator's renew moves it into the past, with an explanation, until the client renews", async () => {
    const certificate = await obtained(client, team, 'operator');
    const before = await renewalInfo(certificate.certId);
    const start = Date.parse(before.info.suggestedWindow.start);
    const end = Date.parse(before.info.suggestedWindow.end);
    expect(before.retryAfter).toBe(String(6 * 3600));
    expect(before.info.explanationURL).toBeUndefined();
    expect(start).toBeGreaterThan(Date.now());
    expect(start).toBeLessThan(end);
    expect(end).toBeLessThan(notAfterOf(certificate.leaf));

    // A team requester may ask (the route wants requester, responder or admin); the run asks the client through ARI.
    const reason = 'the load balancer moves to new keys';
    const renew = await rest.request(`/v1/certificates/${certificate.certificateId}/renew`, { method: 'POST', headers: authHeaders(team.requester), body: JSON.stringify({ reason }) });
    expect(renew.status, await renew.clone().text()).toBe(202);
    const forced = await eventually(
      async () => {
        const answer = await renewalInfo(certificate.certId);
        return answer.info.explanationURL ? answer : undefined;
      },
      { timeoutMs: 20_000, what: 'the renewal window to move into the past' },
    );
    expect(Date.parse(forced.info.suggestedWindow.end)).toBeLessThan(Date.now());
    expect(Date.parse(forced.info.suggestedWindow.start)).toBeLessThan(Date.parse(forced.info.suggestedWindow.end));
    expect(forced.retryAfter).toBe('60');
    const explanationUrl = new URL(forced.info.explanationURL!);
    expect(explanationUrl.pathname).toBe(`/acme/renewal-explanation/${certificate.certId}`);
    const page = await client.get(explanationUrl.pathname);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(reason);
    const [row] = await suite.harness.db.select().from(certificates).where(eq(certificates.id, certificate.certificateId));
    expect(row!.renewalRequestedAt).not.toBeNull();
    // Certflow does not sign a generation by itself: the certificate waits for its client.
    expect(await certificatesAs(rest, team.requester).view<CertificateView>(certificate.certificateId)).toMatchObject({ state: 'active', currentVersion: { generation: 1 } });

    // The client follows ARI; its new certificate has a normal window again.
    const replacement = await client.obtain(certificate.names, { replaces: certificate.certId });
    await certificatesAs(rest, team.requester).waitFor<CertificateView>(certificate.certificateId, (current) => current.state === 'active' && current.currentVersion?.generation === 2, {
      timeoutMs: 15_000,
      what: 'generation 2 active',
    });
    const after = await renewalInfo(ariCertIdOf(replacement.leafPem));
    expect(after.info.explanationURL).toBeUndefined();
    expect(Date.parse(after.info.suggestedWindow.start)).toBeGreaterThan(Date.now());
  });

  it("moves a revoked certificate's renewal window into the past and says it was revoked", async () => {
    const certificate = await obtained(client, team, 'revoked');
    const revoke = await rest.request(`/v1/certificates/${certificate.certificateId}/revoke`, { method: 'POST', headers: authHeaders(team.requester), body: JSON.stringify({ reason: 'keyCompromise' }) });
    expect(revoke.status, await revoke.clone().text()).toBe(202);
    await certificatesAs(rest, team.requester).waitFor<CertificateView>(certificate.certificateId, (current) => current.state === 'revoked', { timeoutMs: 30_000, what: 'revoked' });

    const { info, retryAfter } = await renewalInfo(certificate.certId);
    expect(Date.parse(info.suggestedWindow.end)).toBeLessThan(Date.now());
    expect(retryAfter).toBe('60');
    expect(info.explanationURL).toBeDefined();
    const page = await client.get(new URL(info.explanationURL!).pathname);
    expect(await page.text()).toMatch(/was revoked \(keyCompromise\)/);
  });

  it('lets one order replace a certificate: a second order with the same `replaces` gets alreadyReplaced (409)', async () => {
    const certificate = await obtained(client, team, 'replaced');
    const first = await client.order(certificate.names, certificate.certId);
    expect(first.status).toBe('ready');

    const second = await client.newOrder(certificate.names, certificate.certId);
    expect(second.status).toBe(409);
    expect(second.headers.get('content-type')).toContain('application/problem+json');
    expect(await second.json()).toMatchObject({ type: 'urn:ietf:params:acme:error:alreadyReplaced', status: 409 });

    // Once the first order made generation 2, the old certificate is replaced for good.
    await client.finalize(first, certificate.names);
    await certificatesAs(rest, team.requester).waitFor<CertificateView>(certificate.certificateId, (current) => current.currentVersion?.generation === 2, { timeoutMs: 15_000, what: 'generation 2' });
    const third = await client.newOrder(certificate.names, certificate.certId);
    expect(third.status).toBe(409);
    expect(await third.json()).toMatchObject({ type: 'urn:ietf:params:acme:error:alreadyReplaced' });
  });

  it('does not let an order that can no longer be finalized (its authorization deactivated) block the next replacement', async () => {
    const certificate = await obtained(client, team, 'abandoned');
    const abandoned = await client.order(certificate.names, certificate.certId);
    const body = (await (await client.post(abandoned.url, '')).json()) as { authorizations: string[] };
    expect((await client.post(body.authorizations[0]!, { status: 'deactivated' })).status).toBe(200);
    const next = await client.newOrder(certificate.names, certificate.certId);
    expect(next.status, await next.clone().text()).toBe(201);
  });
});

async function storedState(certificateId: string): Promise<string | undefined> {
  const [row] = await suite.harness.db.select({ state: certificates.state }).from(certificates).where(eq(certificates.id, certificateId));
  return row?.state;
}

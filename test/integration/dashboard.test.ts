/**
 * The dashboard (/ui) in a real headless Chromium (Debian's, driven by playwright-core) against the real
 * platform (Temporal, Postgres, an in-process worker, the API over HTTP): log in, load and filter the
 * inventory, approve a pending request (the API then shows it approved), open a stuck certificate and follow
 * its Temporal UI link into the real Temporal UI (ui-server v2.42.1, built from its Go module, pointed at the
 * suite's Temporal), a team never sees another team's certificate, and a POST without the CSRF token is
 * refused. Screenshots go to test-artifacts/ui/.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createApp } from '../../api/app.js';
import { findApprovalOfCertificate } from '../../db/approvals.js';
import { findFreePort } from '../../devservices/free-port.js';
import type { ServiceProcess } from '../../devservices/service-process.js';
import { startTemporalUi } from '../../devservices/temporal-on-postgres.js';
import { installTemporalUiServer } from '../../devservices/temporal-server-binaries.js';
import { launchChromium, screenshotPath } from '../support/browser.js';
import { TEST_BOOTSTRAP_TOKEN, authHeaders, createToken, eventually } from '../support/harness.js';
import { certificatesAs, serveOverHttp, useIntegrationSuite, type HttpServer } from '../support/integration-suite.js';

let browser: Browser | undefined;
/** The real Temporal UI on the suite's Temporal, and the dashboard served by an app whose links point at it. */
const temporalUi = { binary: '', url: '', process: undefined as ServiceProcess | undefined, dashboard: undefined as HttpServer | undefined };

// First, in a hook of its own: a cold build of the UI server (once per machine, cached in ~/.cache/certflow like
// `npm run dev:cluster`'s; the cluster-topology test builds the same binary under the same lock) takes minutes.
beforeAll(async () => {
  temporalUi.binary = await installTemporalUiServer(process.env, (message) => process.stderr.write(`[temporal-ui] ${message}\n`));
}, 1_200_000);
const suite = useIntegrationSuite('dashboard', {
  worker: true,
  http: true,
  otherTeam: true,
  team: { policy: { allowedDomains: ['example.test'], allowWildcards: true, maxValidity: 'P30D', approval: { wildcards: true, deadline: 'P1D', escalateAfter: 'PT12H' } } },
  teardown: async () => {
    await browser?.close();
    await temporalUi.dashboard?.close();
    await temporalUi.process?.stop();
  },
});

/** Starts the UI server on a free port of 127.0.0.1, and the dashboard whose links point at it. */
async function startRealTemporalUi(): Promise<void> {
  const port = await findFreePort();
  temporalUi.process = await startTemporalUi({
    binary: temporalUi.binary,
    dir: join(inject('tempDir'), `temporal-ui-${port}`),
    temporalAddress: suite.harness.temporalAddress,
    namespace: suite.harness.namespace,
    port,
    log: () => undefined,
  });
  temporalUi.url = `http://127.0.0.1:${port}`;
  const app = createApp({ ...suite.harness.apiDeps, temporalUiUrl: temporalUi.url }, (message, error) => console.error(message, error));
  temporalUi.dashboard = await serveOverHttp(app);
}

const ids = { active: '', stuck: '', pending: '', pendingForCsrf: '', other: '' };
let approver: string;

async function apiGet<T>(token: string, path: string): Promise<{ status: number; body: T }> {
  const response = await suite.harness.app.request(path, { headers: authHeaders(token, false) });
  return { status: response.status, body: (await response.json()) as T };
}

async function loggedIn(token: string, baseUrl = suite.baseUrl): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser!.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${baseUrl}/ui`);
  expect(new URL(page.url()).pathname).toBe('/ui/login');
  await page.fill('input[name=token]', token);
  await page.click('#login button[type=submit]');
  await page.waitForURL(`${baseUrl}/ui`);
  return { context, page };
}

const rowIds = (page: Page, table: string) => page.$$eval(`${table} tbody tr`, (rows) => rows.map((row) => row.getAttribute('data-certificate-id')));

beforeAll(async () => {
  approver = (await createToken(suite.harness, suite.team.teamId, 'approver')).token;
  // A regular file where the destination directory should be: delivery fails every time, so the certificate is stuck.
  await mkdir(join(suite.harness.deliveryRoot, 'stuck'), { recursive: true });
  await writeFile(join(suite.harness.deliveryRoot, 'stuck', 'web'), 'not a directory\n');
  const create = (name: string, extra: Record<string, unknown> = {}) => suite.certificates.create({ team: suite.team.teamName, validity: 'P7D', ...extra, dnsNames: [name] });
  ids.active = (await create('web.example.test')).id;
  ids.stuck = (await create('stuck.example.test', { destinations: [{ type: 'file', directory: 'stuck/web' }] })).id;
  ids.pending = (await create('*.pending.example.test')).id;
  ids.pendingForCsrf = (await create('*.csrf.example.test')).id;
  ids.other = (await certificatesAs(suite.harness.app, suite.otherTeam.requester).create({ team: suite.otherTeam.teamName, dnsNames: ['other.example.test'], validity: 'P7D' })).id;
  await suite.certificates.waitFor(ids.active, (view) => view.state === 'active', { timeoutMs: 30_000, what: 'the first certificate to be active' });
  for (const id of [ids.pending, ids.pendingForCsrf]) {
    await eventually(async () => ((await findApprovalOfCertificate(suite.harness.db, id))?.state === 'pending' ? true : undefined), { timeoutMs: 15_000, what: 'the approval request to be open' });
  }
  await startRealTemporalUi();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  browser = undefined;
});

describe('dashboard in headless Chromium', () => {
  it('logs in with an API token into an HttpOnly SameSite=Strict cookie, and serves a CSP that allows no script', async () => {
    const { context, page } = await loggedIn(approver);
    const cookies = await context.cookies();
    const session = cookies.find((cookie) => cookie.name === 'certflow_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/ui', secure: false });
    expect(page.url()).not.toContain(approver);
    const response = await page.goto(`${suite.baseUrl}/ui`);
    expect(response!.headers()['content-security-policy']).toContain("default-src 'none'");
    expect(response!.headers()['content-security-policy']).not.toContain('script-src');
    await page.goto(`${suite.baseUrl}/ui/login`);
    await page.screenshot({ path: screenshotPath('00-login-redirects-when-logged-in'), fullPage: true });
    await context.close();

    const anonymous = await browser!.newContext();
    const login = await anonymous.newPage();
    await login.goto(`${suite.baseUrl}/ui/login`);
    await login.fill('input[name=token]', 'cft_not-a-token');
    await login.click('#login button[type=submit]');
    await expect.poll(() => login.textContent('.problem')).toContain('unknown, expired or revoked');
    await login.screenshot({ path: screenshotPath('01-login-refused'), fullPage: true });
    await anonymous.close();
  });

  it("loads the inventory of the token's team only, and filters it by state and name", async () => {
    const { context, page } = await loggedIn(approver);
    const all = await rowIds(page, '#certificates');
    expect(all).toEqual(expect.arrayContaining([ids.active, ids.stuck, ids.pending, ids.pendingForCsrf]));
    expect(all).not.toContain(ids.other);
    await page.screenshot({ path: screenshotPath('02-inventory'), fullPage: true });

    await page.selectOption('select[name=state]', 'active');
    await page.click('#filters button[type=submit]');
    await page.waitForURL(/state=active/);
    const active = await rowIds(page, '#certificates');
    expect(active).toContain(ids.active);
    expect(active).not.toContain(ids.pending);
    expect(new Set(await page.$$eval('#certificates tbody .state', (badges) => badges.map((badge) => badge.textContent)))).toEqual(new Set(['active']));
    await page.screenshot({ path: screenshotPath('03-inventory-filtered-by-state'), fullPage: true });

    await page.goto(`${suite.baseUrl}/ui`);
    await page.fill('input[name=name]', 'pending.example');
    await page.fill('input[name=expiringWithinDays]', '3650');
    await page.click('#filters button[type=submit]');
    await page.waitForURL(/name=pending/);
    // Not issued yet, so not expiring: the expiry filter leaves the pending one out; without it the name filter finds it.
    expect(await rowIds(page, '#certificates')).toEqual([]);
    await page.goto(`${suite.baseUrl}/ui?name=pending.example`);
    expect(await rowIds(page, '#certificates')).toEqual([ids.pending]);
    await page.screenshot({ path: screenshotPath('03b-inventory-filtered-by-name'), fullPage: true });

    // Another team's certificate is not found, in the browser as through the API.
    const foreign = await page.goto(`${suite.baseUrl}/ui/certificates/${ids.other}`);
    expect(foreign!.status()).toBe(404);
    expect(await page.textContent('.problem')).toContain('no certificate');
    await page.screenshot({ path: screenshotPath('04-other-team-certificate-not-found'), fullPage: true });
    await context.close();
  });

  it('approves a pending request from the queue, through the API approval route', async () => {
    const { context, page } = await loggedIn(approver);
    await page.goto(`${suite.baseUrl}/ui/approvals`);
    const row = page.locator(`#approvals tr[data-certificate-id="${ids.pending}"]`);
    await expect.poll(() => row.textContent()).toContain('wildcard');
    await page.screenshot({ path: screenshotPath('05-approvals-queue'), fullPage: true });
    await row.locator('input[name=reason]').fill('checked with the service owner');
    await row.locator('button[value=approve]').click();
    await page.waitForURL(/decided=/);
    expect(await page.textContent('.notice')).toContain(`${ids.pending}: approved`);
    expect(await rowIds(page, '#approvals')).not.toContain(ids.pending);
    await page.screenshot({ path: screenshotPath('06-approved'), fullPage: true });

    const { status, body } = await apiGet<{ state: string; decidedBy: string; decisionReason: string }>(suite.team.requester, `/v1/certificates/${ids.pending}/approval`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ state: 'approved', decisionReason: 'checked with the service owner' });
    await suite.certificates.waitFor(ids.pending, (view) => view.state === 'active', { timeoutMs: 30_000, what: 'the approved certificate to be issued' });
    await context.close();
  });

  it('refuses a POST without the CSRF token, and accepts the same POST with it', async () => {
    const { context, page } = await loggedIn(approver);
    const form = { decision: 'reject', reason: 'not needed' };
    const path = `${suite.baseUrl}/ui/certificates/${ids.pendingForCsrf}/decision`;
    // page.request sends the session cookie, as a forged cross-site form would (SameSite aside).
    const missing = await page.request.post(path, { form, maxRedirects: 0 });
    expect(missing.status()).toBe(403);
    const wrong = await page.request.post(path, { form: { ...form, csrf: 'x'.repeat(43) }, maxRedirects: 0 });
    expect(wrong.status()).toBe(403);
    expect((await findApprovalOfCertificate(suite.harness.db, ids.pendingForCsrf))?.state).toBe('pending');

    await page.goto(`${suite.baseUrl}/ui/approvals`);
    const csrf = await page.getAttribute(`#approvals tr[data-certificate-id="${ids.pendingForCsrf}"] input[name=csrf]`, 'value');
    const accepted = await page.request.post(path, { form: { ...form, csrf: csrf! }, maxRedirects: 0 });
    expect(accepted.status()).toBe(303);
    expect((await findApprovalOfCertificate(suite.harness.db, ids.pendingForCsrf))?.state).toBe('rejected');

    // Logging out ends the session: the dashboard asks for a token again.
    await page.goto(`${suite.baseUrl}/ui`);
    await page.click('form.logout button');
    await page.waitForURL(`${suite.baseUrl}/ui/login`);
    await page.goto(`${suite.baseUrl}/ui`);
    expect(new URL(page.url()).pathname).toBe('/ui/login');
    await context.close();
  });

  it("lists a stuck certificate with its last error and follows its link into the real Temporal UI's page of the workflow", async () => {
    const dashboard = temporalUi.dashboard!.baseUrl;
    const { context, page } = await loggedIn(suite.team.requester, dashboard);
    await eventually(
      async () => {
        await page.goto(`${dashboard}/ui/stuck?minAttempts=1`);
        return (await rowIds(page, '#stuck').catch((): (string | null)[] => [])).includes(ids.stuck) ? true : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 2_000, what: 'the stuck page to list the certificate' },
    );
    const row = page.locator(`#stuck tr[data-certificate-id="${ids.stuck}"]`);
    expect(await row.locator('.error-message').textContent()).toContain(join('stuck', 'web'));
    expect(await rowIds(page, '#stuck')).not.toContain(ids.active);
    await page.screenshot({ path: screenshotPath('07-stuck'), fullPage: true });

    await row.locator(`a[href="/ui/certificates/${ids.stuck}"]`).click();
    await page.waitForURL(`${dashboard}/ui/certificates/${ids.stuck}`);
    expect(await page.textContent('#last-error')).toContain(join('stuck', 'web'));
    await page.screenshot({ path: screenshotPath('08-stuck-certificate'), fullPage: true });

    // The real UI: its SPA loads, asks its own /api/v1 (proxied to the suite's Temporal frontend) for the workflow,
    // and shows the workflow's own page (latest run) with its id, status and history.
    const workflowId = `certificate/${ids.stuck}`;
    const { runId } = await suite.harness.client.workflow.getHandle(workflowId).describe();
    const uiRequests: string[] = [];
    page.on('request', (request) => {
      if (request.url().startsWith(`${temporalUi.url}/api/v1/`)) uiRequests.push(decodeURIComponent(new URL(request.url()).pathname));
    });
    await page.click('#temporal-link');
    await page.waitForURL((url) => url.origin === temporalUi.url, { timeout: 30_000 });
    const heading = page.getByTestId('workflow-id-heading');
    await heading.waitFor({ timeout: 60_000 });
    await expect.poll(() => heading.textContent(), { timeout: 30_000 }).toContain(workflowId);
    await expect.poll(() => page.url(), { timeout: 30_000 }).toContain(`/workflows/${encodeURIComponent(workflowId)}/${runId}`);
    const main = page.locator('main');
    await expect.poll(() => main.textContent(), { timeout: 30_000 }).toContain('Running');
    await expect.poll(() => main.textContent(), { timeout: 30_000 }).toContain(runId);
    await expect.poll(() => main.textContent(), { timeout: 30_000 }).toContain('Workflow Execution Started');
    // The failing step, in the history.
    expect(await main.textContent()).toContain('deliverVersion');
    expect(uiRequests.some((path) => path.includes(`/namespaces/${suite.harness.namespace}/workflows/${workflowId}`))).toBe(true);
    await page.screenshot({ path: screenshotPath('08b-temporal-ui-stuck-workflow'), fullPage: true });
    await context.close();
  });

  it('shows error groups, the expiry timeline and a bulk operation with its progress', async () => {
    const started = await suite.harness.app.request('/v1/bulk-reissues', {
      method: 'POST',
      headers: authHeaders(suite.team.admin),
      body: JSON.stringify({ selector: { certificateIds: [ids.active] }, reason: 'dashboard test' }),
    });
    expect(started.status).toBe(202);
    const { id: bulkId } = (await started.json()) as { id: string };

    const { context, page } = await loggedIn(suite.team.admin);
    await page.goto(`${suite.baseUrl}/ui/bulk`);
    expect(await page.textContent('#bulk-operations')).toContain(bulkId);
    await page.click(`a[href="/ui/bulk/${bulkId}"]`);
    await expect.poll(async () => (await page.reload(), page.textContent('#bulk-state')), { timeout: 60_000, interval: 1_000 }).toBe('completed');
    expect(await page.textContent('#bulk-counts')).toContain('selected 1');
    await page.screenshot({ path: screenshotPath('09-bulk-operation'), fullPage: true });

    await page.goto(`${suite.baseUrl}/ui/timeline?days=30`);
    expect(await page.locator(`#timeline g[data-team="${suite.team.teamName}"] rect`).count()).toBeGreaterThan(0);
    await page.screenshot({ path: screenshotPath('10-timeline'), fullPage: true });

    await page.goto(`${suite.baseUrl}/ui/errors`);
    await page.screenshot({ path: screenshotPath('11-error-groups'), fullPage: true });
    await context.close();
  });
});

describe('dashboard session cookie', () => {
  /** Logs in through the app at `origin` (no browser: the cookie's attributes as sent), returning the session's Set-Cookie. */
  async function sessionCookie(origin: string): Promise<string> {
    const form = await suite.harness.app.request(`${origin}/ui/login`);
    const loginCookie = form.headers.getSetCookie().find((cookie) => cookie.startsWith('certflow_login_csrf='))!;
    const csrf = /name="csrf" value="([^"]+)"/.exec(await form.text())![1]!;
    const login = await suite.harness.app.request(`${origin}/ui/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: loginCookie.split(';')[0]! },
      body: new URLSearchParams({ token: suite.team.requester, csrf }).toString(),
    });
    expect(login.status).toBe(303);
    expect(login.headers.get('location')).toBe('/ui');
    return login.headers.getSetCookie().find((cookie) => cookie.startsWith('certflow_session='))!;
  }

  it('is Secure over https, HttpOnly and SameSite=Strict always, and the login POST needs its form token', async () => {
    const overHttps = await sessionCookie('https://certflow.example.test');
    expect(overHttps).toMatch(/; Secure/);
    expect(overHttps).toMatch(/; HttpOnly/);
    expect(overHttps).toMatch(/; SameSite=Strict/);
    expect(await sessionCookie('http://127.0.0.1')).not.toMatch(/; Secure/);

    const forged = await suite.harness.app.request('http://127.0.0.1/ui/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: suite.team.requester, csrf: 'guessed' }).toString(),
    });
    expect(forged.status).toBe(403);
    expect(forged.headers.getSetCookie().some((cookie) => cookie.startsWith('certflow_session='))).toBe(false);
  });
});

describe('GET /v1/bulk-reissues', () => {
  it("lists a team's operations to that team and to platform admins only, a page at a time", async () => {
    const start = async () => {
      const response = await suite.harness.app.request('/v1/bulk-reissues', {
        method: 'POST',
        headers: authHeaders(suite.team.admin),
        body: JSON.stringify({ selector: { certificateIds: [ids.active] }, reason: 'listing test', dryRun: false }),
      });
      expect(response.status).toBe(202);
      return ((await response.json()) as { id: string }).id;
    };
    const older = await start();
    const newest = await start();
    type Listing = { items: { id: string }[]; nextCursor: string | null };
    const own = await apiGet<Listing>(suite.team.admin, '/v1/bulk-reissues?limit=1');
    expect(own.status).toBe(200);
    expect(own.body.items.map((item) => item.id)).toEqual([newest]);
    expect(own.body.nextCursor).not.toBeNull();
    const second = await apiGet<Listing>(suite.team.admin, `/v1/bulk-reissues?limit=1&cursor=${own.body.nextCursor!}`);
    expect(second.body.items).toHaveLength(1);
    expect(second.body.items.map((item) => item.id)).toEqual([older]);

    const otherAdmin = await apiGet<Listing>(suite.otherTeam.admin, '/v1/bulk-reissues');
    expect(otherAdmin.status).toBe(200);
    expect(otherAdmin.body.items).toEqual([]);
    const platform = await apiGet<Listing>(TEST_BOOTSTRAP_TOKEN, '/v1/bulk-reissues?limit=200');
    expect(platform.body.items.map((item) => item.id)).toContain(newest);
    expect((await apiGet(suite.team.requester, '/v1/bulk-reissues')).status).toBe(403);
    expect((await apiGet(suite.team.admin, '/v1/bulk-reissues?cursor=bogus')).status).toBe(400);
  });
});

/**
 * `certflow login --oidc` end to end: the OAuth device authorization flow (RFC 8628) against a real OpenID
 * Connect provider on loopback (npm `oidc-provider` with its device flow, verification and login pages).
 * The CLI runs as a real process (`tsx cmd/cli.ts`) and polls; the user's side is played in headless Chromium
 * on the provider's own pages. Then the stored OIDC token works for `certflow list --json`, the team and role
 * of its claims apply (a requester cannot approve), an expired access token is refreshed by the next command,
 * and refusing or not confirming in time end with their exit codes. The API publishes what the CLI needs at
 * GET /v1/auth/oidc (404 when it offers no OIDC login). Screenshots go to test-artifacts/ui/.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app.js';
import { createOidcVerifier } from '../../api/oidc.js';
import { loadConfig } from '../../cmd/config.js';
import { launchChromium, screenshotPath } from '../support/browser.js';
import { serveOverHttp, useIntegrationSuite, type HttpServer } from '../support/integration-suite.js';
import { startOidcDeviceIssuer, type OidcDeviceIssuer } from '../support/oidc-device-issuer.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const AUDIENCE = 'https://certflow.test';
const CLI_CLIENT = 'certflow-cli';
/** A client whose device codes expire after 3 s: nobody confirms in time. */
const HASTY_CLIENT = 'certflow-cli-hasty';

let idp: OidcDeviceIssuer;
let browser: Browser | undefined;
/** The API with OIDC login for CLI_CLIENT, and one naming HASTY_CLIENT; `withoutOidc` offers no OIDC login. */
const apis = { oidc: undefined as HttpServer | undefined, hasty: undefined as HttpServer | undefined, withoutOidc: undefined as HttpServer | undefined };
const suite = useIntegrationSuite('cli-oidc-login', {
  worker: true,
  team: { policy: { allowedDomains: ['example.test'], allowWildcards: true, maxValidity: 'P30D', approval: { wildcards: true } } },
  teardown: async () => {
    await browser?.close();
    for (const api of Object.values(apis)) await api?.close();
    await idp?.close();
  },
});

beforeAll(async () => {
  idp = await startOidcDeviceIssuer({
    audience: AUDIENCE,
    clients: [{ id: CLI_CLIENT }, { id: HASTY_CLIENT, deviceCodeTtlSeconds: 3 }],
    accounts: {
      olga: { certflow_team: suite.team.teamName, certflow_role: 'requester', name: 'Olga Requester' },
      otto: { certflow_team: suite.team.teamName, certflow_role: 'approver', name: 'Otto Approver' },
    },
    // Under the CLI's one-minute margin: the next command refreshes it.
    accessTokenTtlSeconds: 30,
  });
  const serveWith = (clientId: string) => {
    // The settings as an operator gives them, through cmd/config.ts.
    const config = loadConfig({ CERTFLOW_OIDC_ISSUER: idp.issuer, CERTFLOW_OIDC_AUDIENCE: AUDIENCE, CERTFLOW_OIDC_CLI_CLIENT_ID: clientId }).oidc!;
    return serveOverHttp(
      createApp({ ...suite.harness.apiDeps, oidc: createOidcVerifier(config), oidcLogin: { issuer: config.issuer, audience: config.audience, cliClientId: config.cliClientId! } }),
    );
  };
  apis.oidc = await serveWith(CLI_CLIENT);
  apis.hasty = await serveWith(HASTY_CLIENT);
  apis.withoutOidc = await serveOverHttp(suite.harness.app);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  browser = undefined;
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `certflow <args>` as a child process with its own config dir; `output` resolves with the first match of `pattern` in its output. */
function startCertflow(args: string[], configHome: string) {
  const env: Record<string, string | undefined> = { ...process.env, XDG_CONFIG_HOME: configHome };
  delete env['CERTFLOW_TOKEN'];
  delete env['CERTFLOW_API_URL'];
  const child = spawn(process.execPath, ['--import', 'tsx', 'cmd/cli.ts', ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const run: Run = { code: null, stdout: '', stderr: '' };
  const listeners: (() => void)[] = [];
  child.stdout.on('data', (chunk: Buffer) => ((run.stdout += chunk.toString()), listeners.forEach((listener) => listener())));
  child.stderr.on('data', (chunk: Buffer) => ((run.stderr += chunk.toString()), listeners.forEach((listener) => listener())));
  const done = new Promise<Run>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ ...run, code }));
  });
  const output = (pattern: RegExp) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        const match = pattern.exec(`${run.stdout}\n${run.stderr}`);
        if (match) resolve(match);
      };
      listeners.push(check);
      check();
      void done.then(() => reject(new Error(`certflow exited (${run.code}) before printing ${pattern}:\n${run.stdout}\n${run.stderr}`)));
    });
  return { done, output };
}

const certflow = (args: string[], configHome: string) => startCertflow(args, configHome).done;

function json<T = Record<string, unknown>>(run: Run): T {
  expect(run.code, `exit ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`).toBe(0);
  return JSON.parse(run.stdout) as T;
}

/** The user's side on the provider's own pages: open the verification URI, then confirm (log in as `login`, consent) or abort. */
async function answerInBrowser(verificationUri: string, userCode: string, answer: { login: string } | 'abort', screenshot: string): Promise<void> {
  const context = await browser!.newContext({ viewport: { width: 900, height: 700 } });
  // The provider's default pages import a web font; nothing leaves loopback.
  await context.route((url) => url.hostname !== '127.0.0.1', (route) => route.abort());
  const page = await context.newPage();
  await page.goto(verificationUri);
  expect(await page.textContent('code')).toBe(userCode);
  await page.screenshot({ path: screenshotPath(`${screenshot}-1-confirm-device`), fullPage: true });
  if (answer === 'abort') {
    await page.click('button[name=abort]');
    await page.waitForLoadState();
    await page.screenshot({ path: screenshotPath(`${screenshot}-2-aborted`), fullPage: true });
  } else {
    await page.click('button[autofocus]');
    await page.fill('input[name=login]', answer.login);
    await page.fill('input[name=password]', 'any password: the development login takes any');
    await page.screenshot({ path: screenshotPath(`${screenshot}-2-login`), fullPage: true });
    await page.click('button.login-submit');
    // Consent to the CLI's access.
    await page.click('button.login-submit');
    await expect.poll(() => page.textContent('h1')).toBe('Sign-in Success');
    await page.screenshot({ path: screenshotPath(`${screenshot}-3-success`), fullPage: true });
  }
  await context.close();
}

/** Starts `certflow login --oidc`, reads the verification URI and user code it prints, and answers in the browser. */
async function loginWithDeviceFlow(api: string, configHome: string, answer: { login: string } | 'abort' | 'ignore', screenshot: string): Promise<Run> {
  const cli = startCertflow(['login', '--oidc', '--api-url', api, '--json'], configHome);
  const [, uri] = await cli.output(/open (\S+)/);
  const [, userCode] = await cli.output(/confirm the code (\S+)/);
  if (answer !== 'ignore') await answerInBrowser(uri!, userCode!, answer, screenshot);
  return cli.done;
}

describe('GET /v1/auth/oidc', () => {
  it('publishes the issuer, audience and CLI client without a token, and is a 404 problem where no OIDC login is offered', async () => {
    const published = await fetch(`${apis.oidc!.baseUrl}/v1/auth/oidc`);
    expect(published.status).toBe(200);
    expect(await published.json()).toEqual({ issuer: idp.issuer, audience: AUDIENCE, clientId: CLI_CLIENT, flow: 'urn:ietf:params:oauth:grant-type:device_code' });
    const off = await fetch(`${apis.withoutOidc!.baseUrl}/v1/auth/oidc`);
    expect(off.status).toBe(404);
    expect(off.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(((await off.json()) as { detail: string }).detail).toMatch(/CERTFLOW_OIDC_CLI_CLIENT_ID/);

    const configHome = await mkdtemp(join(tmpdir(), 'certflow-oidc-off-'));
    const refused = await certflow(['login', '--oidc', '--api-url', apis.withoutOidc!.baseUrl, '--json'], configHome);
    expect(refused.code).toBe(3);
    expect(JSON.parse(refused.stderr)).toMatchObject({ type: '/problems/cli-oidc-not-offered', exitCode: 3 });
  });
});

describe('certflow login --oidc', () => {
  it('logs in with the device flow, then lists with the OIDC token; the claimed role applies; an expired token is refreshed', async () => {
    const requesterHome = await mkdtemp(join(tmpdir(), 'certflow-oidc-olga-'));
    const startedAt = Date.now();
    const login = await loginWithDeviceFlow(apis.oidc!.baseUrl, requesterHome, { login: 'olga' }, 'oidc-01-olga');
    console.log(`device flow login took ${Date.now() - startedAt} ms`);
    const answer = json<{ apiUrl: string; configFile: string; principal: { teamId: string; teamName: string; role: string; via: string } }>(login);
    expect(answer.principal).toMatchObject({ teamId: suite.team.teamId, teamName: suite.team.teamName, role: 'requester', via: 'oidc' });
    expect((await stat(answer.configFile)).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(await readFile(answer.configFile, 'utf8')) as { token: string; oidc: { issuer: string; clientId: string; refreshToken: string | null; expiresAt: string } };
    expect(stored.token).toMatch(/^eyJ/);
    expect(stored.oidc).toMatchObject({ issuer: idp.issuer, clientId: CLI_CLIENT });
    expect(stored.oidc.refreshToken).toEqual(expect.any(String));

    // The token expires within the CLI's one-minute margin: `request` refreshes it first, and stores the new one.
    const requested = json<{ id: string }>(await certflow(['request', '*.oidc-cli.example.test', '--team', suite.team.teamName, '--validity', 'P1D', '--json'], requesterHome));
    const refreshed = JSON.parse(await readFile(answer.configFile, 'utf8')) as typeof stored;
    expect(refreshed.token).not.toBe(stored.token);
    expect(Date.parse(refreshed.oidc.expiresAt)).toBeGreaterThan(Date.parse(stored.oidc.expiresAt));
    expect((await stat(answer.configFile)).mode & 0o777).toBe(0o600);

    const listed = json<{ items: { id: string }[] }>(await certflow(['list', '--json'], requesterHome));
    expect(listed.items.map((item) => item.id)).toContain(requested.id);

    // A requester cannot approve (the wildcard needs an approval): 403, exit 3.
    await suite.certificates.waitFor(requested.id, (view) => view.state === 'awaiting_approval', { timeoutMs: 30_000, what: 'the wildcard to wait for approval' });
    const selfApproval = await certflow(['approve', requested.id, '--reason', 'mine', '--json'], requesterHome);
    expect(selfApproval.code, selfApproval.stderr).toBe(3);
    expect(JSON.parse(selfApproval.stderr)).toMatchObject({ status: 403, exitCode: 3 });

    // An approver of the team, logged in the same way, can.
    const approverHome = await mkdtemp(join(tmpdir(), 'certflow-oidc-otto-'));
    expect(json<{ principal: { role: string } }>(await loginWithDeviceFlow(apis.oidc!.baseUrl, approverHome, { login: 'otto' }, 'oidc-02-otto')).principal.role).toBe('approver');
    const approved = await certflow(['approve', requested.id, '--reason', 'reviewed', '--json'], approverHome);
    expect(approved.code, approved.stderr).toBe(0);
  });

  it('ends with exit 3 when the user aborts at the provider, and exit 8 when nobody confirms in time; nothing is stored', async () => {
    const home = await mkdtemp(join(tmpdir(), 'certflow-oidc-refused-'));
    const aborted = await loginWithDeviceFlow(apis.oidc!.baseUrl, home, 'abort', 'oidc-03-abort');
    expect(aborted.code, aborted.stderr).toBe(3);
    expect(JSON.parse(aborted.stderr.split('\n').filter(Boolean).at(-1)!)).toMatchObject({ type: '/problems/cli-login-denied', exitCode: 3 });
    await expect(stat(join(home, 'certflow', 'config.json'))).rejects.toThrow(/ENOENT/);

    const expired = await loginWithDeviceFlow(apis.hasty!.baseUrl, home, 'ignore', 'unused');
    expect(expired.code, expired.stderr).toBe(8);
    expect(JSON.parse(expired.stderr.split('\n').filter(Boolean).at(-1)!)).toMatchObject({ type: '/problems/cli-login-expired', exitCode: 8 });
    await expect(stat(join(home, 'certflow', 'config.json'))).rejects.toThrow(/ENOENT/);
  });
});

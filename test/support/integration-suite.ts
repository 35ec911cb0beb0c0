/**
 * The setup an integration test file shares with the others, and the small requests they all make.
 *
 *   const suite = useIntegrationSuite('rollout', { worker: true, team: true, teardown: closeServices });
 *   it('…', async () => {
 *     const { id } = await suite.certificates.create({ team: suite.team.teamName, dnsNames: ['a.example.test'], validity: 'P1D' });
 *     await suite.certificates.waitFor(id, (view) => view.state === 'active', { timeoutMs: 15_000, what: 'issuance' });
 *   });
 *
 * `useIntegrationSuite` registers the file's beforeAll and afterAll hooks; the fields of the object it
 * returns are filled in by beforeAll, so read them in hooks and tests only. Each option is off unless
 * the file asks for it, so the call says what the file sets up.
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, expect } from 'vitest';
import { authHeaders, createHarness, createTeamWithTokens, eventually, startInProcessWorker, type Harness, type InProcessWorker, type Team } from './harness.js';

export interface IntegrationSuiteOptions {
  /** An in-process worker polling the harness's task queue (none: nothing is issued). */
  worker?: boolean;
  /** A team with a requester and an admin token (`suite.team`, `suite.certificates`); an object is passed to createTeamWithTokens. */
  team?: boolean | Parameters<typeof createTeamWithTokens>[1];
  /** A second team, to check that teams are kept apart (`suite.otherTeam`). */
  otherTeam?: boolean;
  /** The app served over real HTTP on 127.0.0.1 at a free port (`suite.baseUrl`). */
  http?: boolean;
  /** Runs first in afterAll, before the HTTP server, the worker and the harness are closed. */
  teardown?: () => unknown;
}

export interface IntegrationSuite {
  harness: Harness;
  /** With `team`. */
  team: Team;
  /** With `team`: the team's requester's certificates, through `harness.app`. */
  certificates: CertificateClient;
  /** With `otherTeam`. */
  otherTeam: Team;
  /** With `http`: `http://127.0.0.1:<port>`. */
  baseUrl: string;
}

/** Registers beforeAll (harness, then worker, teams, HTTP server) and afterAll (the reverse); returns what beforeAll fills in. */
export function useIntegrationSuite(name: string, options: IntegrationSuiteOptions = {}): IntegrationSuite {
  const suite = {} as IntegrationSuite;
  let worker: InProcessWorker | undefined;
  let server: HttpServer | undefined;

  beforeAll(async () => {
    suite.harness = await createHarness(name);
    if (options.worker) worker = await startInProcessWorker(suite.harness);
    if (options.team) {
      suite.team = await createTeamWithTokens(suite.harness, options.team === true ? {} : options.team);
      suite.certificates = certificatesAs(suite.harness.app, suite.team.requester);
    }
    if (options.otherTeam) suite.otherTeam = await createTeamWithTokens(suite.harness);
    if (options.http) {
      server = await serveOverHttp(suite.harness.app);
      suite.baseUrl = server.baseUrl;
    }
  });

  afterAll(async () => {
    await options.teardown?.();
    await server?.close();
    await worker?.stop();
    await suite.harness?.close();
  });

  return suite;
}

export interface HttpServer {
  baseUrl: string;
  close(): Promise<void>;
}

/** Serves the app over real HTTP on 127.0.0.1 at a free port. */
export async function serveOverHttp(app: Harness['app']): Promise<HttpServer> {
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const started = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(started));
  });
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** What answers API requests: `harness.app` in the process, or `overHttp(baseUrl)` over real HTTP. */
export interface App {
  request(path: string, init?: RequestInit): Response | Promise<Response>;
}

/** The API at `baseUrl`, requested with fetch. */
export function overHttp(baseUrl: string): App {
  return { request: (path, init) => fetch(`${baseUrl}${path}`, init) };
}

/** The answer to a create, and the least of a certificate's view; a file names the other fields it reads. */
export interface Created {
  id: string;
  workflowId: string;
  state: string;
}
export interface View {
  state: string;
}

export interface CertificateClient {
  /** POST /v1/certificates; expects 202 (with the answer as the message otherwise). */
  create<T extends Created = Created>(body: Record<string, unknown>): Promise<T>;
  /** GET /v1/certificates/:id; expects 200. */
  view<V extends View = View>(id: string): Promise<V>;
  /** POST /v1/certificates/:id/renew, with `{ reason }` if given; expects 202. */
  renew(id: string, reason?: string): Promise<void>;
  /** Reads the view until `accept` holds, and returns that view (see `eventually`). */
  waitFor<V extends View = View>(id: string, accept: (view: V) => boolean, options: { timeoutMs: number; intervalMs?: number; what: string }): Promise<V>;
}

/** Certificates as the holder of `token` sees them. */
export function certificatesAs(app: App, token: string): CertificateClient {
  const view = async <V extends View>(id: string): Promise<V> => {
    const response = await app.request(`/v1/certificates/${id}`, { headers: authHeaders(token, false) });
    expect(response.status).toBe(200);
    return (await response.json()) as V;
  };
  return {
    async create<T extends Created>(body: Record<string, unknown>): Promise<T> {
      const response = await app.request('/v1/certificates', { method: 'POST', headers: authHeaders(token), body: JSON.stringify(body) });
      expect(response.status, await response.clone().text()).toBe(202);
      return (await response.json()) as T;
    },
    view,
    async renew(id: string, reason?: string): Promise<void> {
      const init = reason === undefined ? {} : { body: JSON.stringify({ reason }) };
      const response = await app.request(`/v1/certificates/${id}/renew`, { method: 'POST', headers: authHeaders(token, reason !== undefined), ...init });
      expect(response.status, await response.clone().text()).toBe(202);
    },
    waitFor: <V extends View>(id: string, accept: (view: V) => boolean, options: { timeoutMs: number; intervalMs?: number; what: string }) =>
      eventually(async () => {
        const current = await view<V>(id);
        return accept(current) ? current : undefined;
      }, options),
  };
}

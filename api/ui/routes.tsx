/** @jsxImportSource hono/jsx */
/**
 * `/ui`: the dashboard, server-rendered with hono/jsx (everything escaped), no scripts at all (the CSP
 * forbids them). Pages read and act through the API in-process with the session's token (api-client.ts),
 * so the API's validation, authorization and audit apply unchanged: a team token sees its team only.
 */
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import type { Child } from 'hono/jsx';
import { z } from 'zod';
import { expiryTimeline } from '../../core/expiry-timeline.js';
import { principalOfBearer } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import { ProblemError } from '../problem.js';
import { UiApi, type ApiAnswer, type ApiFetch } from './api-client.js';
import { Layout, Notice, ProblemBox } from './layout.js';
import { ApprovalsPage, type ApprovalJson } from './pages/approvals.js';
import { BulkDetailPage, BulkListPage, FINISHED_BULK_STATES, type BulkDetailJson, type BulkOperationJson } from './pages/bulk.js';
import { CertificatePage } from './pages/certificate.js';
import type { CertificateJson } from './pages/certificates-table.js';
import { ErrorsPage, type ErrorGroupJson } from './pages/errors.js';
import { InventoryPage, matchesName, type InventoryFilters } from './pages/inventory.js';
import { LoginPage } from './pages/login.js';
import { StuckPage } from './pages/stuck.js';
import { TimelinePage } from './pages/timeline.js';
import { CSRF_FIELD, currentSession, endSession, issueLoginCsrf, loginCsrfMatches, sameSecret, startSession, type UiEnv, type UiSession } from './session.js';
import { DASHBOARD_CSS } from './style.js';

/** No scripts, no frames, forms and styles from this origin only. */
export const DASHBOARD_CSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const MAX_FORM_BYTES = 16 * 1024;
const TIMELINE_MAX_PAGES = 5;
const days = z.coerce.number().int().min(1).max(3650);

type Page<T> = { items: T[]; nextCursor: string | null };

export function dashboardRoutes(deps: ApiDeps, apiFetch: ApiFetch) {
  const app = new Hono<UiEnv>();

  app.use('*', async (c, next) => {
    await next();
    c.header('Content-Security-Policy', DASHBOARD_CSP);
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('X-Frame-Options', 'DENY');
    c.header('Referrer-Policy', 'no-referrer');
    c.header('Cache-Control', 'no-store');
  });
  app.use('*', bodyLimit({ maxSize: MAX_FORM_BYTES, onError: (c) => c.text('form too large', 413) }));

  app.get('/style.css', (c) => c.body(DASHBOARD_CSS, 200, { 'Content-Type': 'text/css; charset=utf-8' }));

  app.get('/login', async (c) => {
    if (await currentSession(deps, c)) return c.redirect('/ui', 303);
    return render(c, 200, 'Log in', null, <LoginPage csrf={issueLoginCsrf(c)} failed={null} />);
  });

  app.post('/login', async (c) => {
    const form = await c.req.parseBody();
    const token = typeof form['token'] === 'string' ? form['token'].trim() : '';
    if (!loginCsrfMatches(c, stringField(form, CSRF_FIELD))) {
      return render(c, 403, 'Log in', null, <LoginPage csrf={issueLoginCsrf(c)} failed="The login form expired or did not come from this site; try again." />);
    }
    try {
      if (!token || token.length > 4096) throw new ProblemError(401, 'unauthenticated', 'Unauthenticated', 'no token');
      await principalOfBearer(deps, token);
    } catch (error) {
      if (!(error instanceof ProblemError && error.status === 401)) throw error;
      return render(c, 401, 'Log in', null, <LoginPage csrf={issueLoginCsrf(c)} failed="That token is unknown, expired or revoked." />);
    }
    startSession(c, token);
    return c.redirect('/ui', 303);
  });

  // Everything below needs a session; a POST also needs the session's CSRF token.
  app.use(
    '*',
    createMiddleware<UiEnv>(async (c, next) => {
      const session = await currentSession(deps, c);
      if (!session) {
        if (c.req.method === 'GET') return c.redirect('/ui/login', 303);
        return c.text('not logged in', 401);
      }
      if (c.req.method === 'POST') {
        const form = await c.req.parseBody();
        if (!sameSecret(stringField(form, CSRF_FIELD), session.csrf)) {
          return render(c, 403, 'Refused', session, <ProblemBox status={403} problem={{ title: 'Refused', detail: 'The form carried no valid CSRF token: reload the page and submit it again.' }} />);
        }
      }
      c.set('session', session);
      await next();
    }),
  );

  const apiOf = (session: UiSession) => new UiApi(apiFetch, session.bearer);

  app.post('/logout', (c) => {
    endSession(c);
    return c.redirect('/ui/login', 303);
  });

  app.get('/', async (c) => {
    const session = c.get('session');
    const filters: InventoryFilters = {
      team: c.req.query('team') ?? '',
      state: c.req.query('state') ?? '',
      source: c.req.query('source') ?? '',
      name: c.req.query('name') ?? '',
      expiringWithinDays: c.req.query('expiringWithinDays') ?? '',
      cursor: c.req.query('cursor') ?? '',
    };
    const within = filters.expiringWithinDays ? days.safeParse(filters.expiringWithinDays) : null;
    if (within && !within.success) {
      return render(c, 400, 'Inventory', session, <ProblemBox status={400} problem={{ title: 'Invalid filter', detail: 'expiring within: a whole number of days from 1 to 3650' }} />);
    }
    const answer = await apiOf(session).get<Page<CertificateJson>>('/v1/certificates', {
      team: filters.team,
      state: filters.state,
      source: filters.source,
      expiringBefore: within ? new Date(deps.now().getTime() + within.data * 86_400_000).toISOString() : undefined,
      cursor: filters.cursor,
      limit: filters.name ? '200' : '100',
    });
    if (!answer.ok) return problemPage(c, 'Inventory', session, answer, <InventoryPage filters={filters} items={[]} nextCursor={null} />);
    const items = filters.name ? answer.body.items.filter((certificate) => matchesName(certificate, filters.name)) : answer.body.items;
    return render(c, 200, 'Inventory', session, <InventoryPage filters={filters} items={items} nextCursor={answer.body.nextCursor} />);
  });

  app.get('/timeline', async (c) => {
    const session = c.get('session');
    const window = days.safeParse(c.req.query('days') ?? '90');
    if (!window.success) return render(c, 400, 'Expiry timeline', session, <ProblemBox status={400} problem={{ title: 'Invalid window', detail: 'days: a whole number from 1 to 3650' }} />);
    const now = deps.now();
    const api = apiOf(session);
    const certificates: CertificateJson[] = [];
    let cursor: string | undefined;
    let truncated = false;
    for (let page = 0; page < TIMELINE_MAX_PAGES; page++) {
      const answer = await api.get<Page<CertificateJson>>('/v1/certificates', { expiringBefore: new Date(now.getTime() + window.data * 86_400_000).toISOString(), limit: '200', cursor });
      if (!answer.ok) return problemPage(c, 'Expiry timeline', session, answer, null);
      certificates.push(...answer.body.items);
      cursor = answer.body.nextCursor ?? undefined;
      if (!cursor) break;
      truncated = page === TIMELINE_MAX_PAGES - 1;
    }
    const names = await teamNames(api, [...new Set(certificates.map((certificate) => certificate.teamId))]);
    const expiring = certificates.flatMap((certificate) => (certificate.currentVersion ? [{ team: names.get(certificate.teamId) ?? certificate.teamId, notAfter: new Date(certificate.currentVersion.notAfter) }] : []));
    const timeline = expiryTimeline(expiring, now, window.data, Math.min(window.data, 30));
    return render(c, 200, 'Expiry timeline', session, <TimelinePage timeline={timeline} days={String(window.data)} truncated={truncated} />);
  });

  app.get('/stuck', async (c) => {
    const session = c.get('session');
    const stuckAfter = c.req.query('stuckAfter') ?? '3600';
    const minAttempts = c.req.query('minAttempts') ?? '3';
    const answer = await apiOf(session).get<Page<CertificateJson>>('/v1/certificates', { stuck: 'true', stuckAfter, minAttempts, limit: '200' });
    if (!answer.ok) return problemPage(c, 'Stuck & failing', session, answer, null);
    return render(c, 200, 'Stuck & failing', session, <StuckPage items={answer.body.items} stuckAfter={stuckAfter} minAttempts={minAttempts} />);
  });

  app.get('/certificates/:id', async (c) => {
    const session = c.get('session');
    const answer = await apiOf(session).get<CertificateJson>(`/v1/certificates/${encodeURIComponent(c.req.param('id'))}`);
    if (!answer.ok) return problemPage(c, 'Certificate', session, answer, null);
    return render(c, 200, `Certificate ${answer.body.commonName ?? answer.body.id}`, session, <CertificatePage certificate={answer.body} session={session} />);
  });

  async function approvalsPage(c: Context<UiEnv>, session: UiSession, status: number, banner: Child) {
    const api = apiOf(session);
    const answer = await api.get<Page<CertificateJson>>('/v1/certificates', { state: 'awaiting_approval', limit: '200' });
    if (!answer.ok) return problemPage(c, 'Approvals', session, answer, null);
    const pending = await Promise.all(
      answer.body.items.map(async (certificate) => {
        const approval = await api.get<ApprovalJson>(`/v1/certificates/${encodeURIComponent(certificate.id)}/approval`);
        return { certificate, approval: approval.ok ? approval.body : null };
      }),
    );
    return render(
      c,
      status,
      'Approvals',
      session,
      <>
        {banner}
        <ApprovalsPage pending={pending} session={session} />
      </>,
    );
  }

  app.get('/approvals', async (c) => {
    const session = c.get('session');
    const decided = c.req.query('decided');
    const outcome = c.req.query('outcome');
    return approvalsPage(c, session, 200, decided ? <Notice>{`${decided}: ${outcome ?? 'decided'}`}</Notice> : null);
  });

  app.post('/certificates/:id/decision', async (c) => {
    const session = c.get('session');
    const form = await c.req.parseBody();
    const decision = stringField(form, 'decision');
    if (decision !== 'approve' && decision !== 'reject') {
      return approvalsPage(c, session, 400, <ProblemBox status={400} problem={{ title: 'Invalid decision', detail: 'choose approve or reject' }} />);
    }
    const id = c.req.param('id');
    // The API's approval route: approver rules, separation of duties, the workflow's validator, the audit log.
    const answer = await apiOf(session).post<{ state: string }>(`/v1/certificates/${encodeURIComponent(id)}/${decision}`, { reason: stringField(form, 'reason') ?? '' });
    if (!answer.ok) return approvalsPage(c, session, answer.status, <ProblemBox status={answer.status} problem={answer.problem} />);
    return c.redirect(`/ui/approvals?${new URLSearchParams({ decided: id, outcome: answer.body.state }).toString()}`, 303);
  });

  app.get('/bulk', async (c) => {
    const session = c.get('session');
    const answer = await apiOf(session).get<Page<BulkOperationJson>>('/v1/bulk-reissues', { cursor: c.req.query('cursor'), limit: '50' });
    if (!answer.ok) return problemPage(c, 'Bulk operations', session, answer, null);
    return render(c, 200, 'Bulk operations', session, <BulkListPage items={answer.body.items} />);
  });

  app.get('/bulk/:id', async (c) => {
    const session = c.get('session');
    const answer = await apiOf(session).get<BulkDetailJson>(`/v1/bulk-reissues/${encodeURIComponent(c.req.param('id'))}`, { limit: '200' });
    if (!answer.ok) return problemPage(c, 'Bulk operation', session, answer, null);
    const running = !FINISHED_BULK_STATES.has(answer.body.progress?.state ?? answer.body.state);
    return render(c, 200, `Bulk operation ${answer.body.id}`, session, <BulkDetailPage operation={answer.body} session={session} />, running ? 2 : undefined);
  });

  app.post('/bulk/:id/:action{pause|resume|cancel}', async (c) => {
    const session = c.get('session');
    const id = c.req.param('id');
    const answer = await apiOf(session).post(`/v1/bulk-reissues/${encodeURIComponent(id)}/${c.req.param('action')}`, {});
    if (!answer.ok) return problemPage(c, 'Bulk operation', session, answer, <a href={`/ui/bulk/${encodeURIComponent(id)}`}>Back to the operation</a>);
    return c.redirect(`/ui/bulk/${encodeURIComponent(id)}`, 303);
  });

  app.get('/errors', async (c) => {
    const session = c.get('session');
    const answer = await apiOf(session).get<{ items: ErrorGroupJson[] }>('/v1/errors', { limit: '200' });
    if (!answer.ok) return problemPage(c, 'Error groups', session, answer, null);
    return render(c, 200, 'Error groups', session, <ErrorsPage items={answer.body.items} />);
  });

  app.notFound((c) => c.text('no such dashboard page', 404));
  return app;
}

async function render(c: Context, status: number, title: string, session: UiSession | null, body: Child, refreshSeconds?: number) {
  const page = (
    <Layout title={title} session={session} refreshSeconds={refreshSeconds}>
      {body}
    </Layout>
  );
  return c.html(`<!DOCTYPE html>${await page.toString()}`, status as 200);
}

/** The API's refusal shown on the page, with the API's status (404 for another team's certificate, 403 for a missing role). */
function problemPage(c: Context, title: string, session: UiSession, answer: Extract<ApiAnswer<unknown>, { ok: false }>, body: Child) {
  return render(
    c,
    answer.status,
    title,
    session,
    <>
      <ProblemBox status={answer.status} problem={answer.problem} />
      {body}
    </>,
  );
}

function stringField(form: Record<string, unknown>, name: string): string | undefined {
  const value = form[name];
  return typeof value === 'string' ? value : undefined;
}

/** Team names for the timeline's labels; a team the token cannot read keeps its id. */
async function teamNames(api: UiApi, ids: string[]): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  await Promise.all(
    ids.map(async (id) => {
      const answer = await api.get<{ name: string }>(`/v1/teams/${encodeURIComponent(id)}`);
      if (answer.ok) names.set(id, answer.body.name);
    }),
  );
  return names;
}

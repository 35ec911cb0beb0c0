/** @jsxImportSource hono/jsx */
/** The page frame every dashboard page shares: navigation, who is logged in, the logout form. */
import type { Child } from 'hono/jsx';
import type { UiSession } from './session.js';
import { CSRF_FIELD } from './session.js';

const NAV = [
  ['/ui', 'Inventory'],
  ['/ui/timeline', 'Expiry timeline'],
  ['/ui/stuck', 'Stuck & failing'],
  ['/ui/approvals', 'Approvals'],
  ['/ui/bulk', 'Bulk operations'],
  ['/ui/errors', 'Error groups'],
] as const;

export interface LayoutProps {
  title: string;
  session: UiSession | null;
  /** Reload the page every so many seconds (live progress without scripts). */
  refreshSeconds?: number;
  children?: Child;
}

export function Layout({ title, session, refreshSeconds, children }: LayoutProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        {refreshSeconds ? <meta http-equiv="refresh" content={String(refreshSeconds)} /> : null}
        <title>{`${title} · Certflow`}</title>
        <link rel="stylesheet" href="/ui/style.css" />
      </head>
      <body>
        <header>
          <strong class="brand">Certflow</strong>
          {session ? (
            <nav>
              {NAV.map(([href, label]) => (
                <a href={href}>{label}</a>
              ))}
            </nav>
          ) : null}
          {session ? (
            <form method="post" action="/ui/logout" class="logout">
              <span class="who">
                {session.principal.role} · {session.principal.teamId ?? 'platform'}
              </span>
              <input type="hidden" name={CSRF_FIELD} value={session.csrf} />
              <button type="submit">Log out</button>
            </form>
          ) : null}
        </header>
        <main>
          <h1>{title}</h1>
          {children}
        </main>
      </body>
    </html>
  );
}

/** An API refusal or failure, as the API worded it. */
export function ProblemBox({ problem, status }: { problem: { title: string; detail: string }; status: number }) {
  return (
    <div class="problem" role="alert">
      <strong>
        {problem.title} ({status})
      </strong>
      <p>{problem.detail}</p>
    </div>
  );
}

export function Notice({ children }: { children?: Child }) {
  return <div class="notice" role="status">{children}</div>;
}

export function CsrfField({ session }: { session: UiSession }) {
  return <input type="hidden" name={CSRF_FIELD} value={session.csrf} />;
}

export function Time({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span class="muted">—</span>;
  return <time datetime={iso}>{iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</time>;
}

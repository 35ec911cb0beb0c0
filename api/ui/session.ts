/**
 * Dashboard sessions: the session cookie holds the API token the person logged in with (HttpOnly,
 * SameSite=Strict, Secure over https, path /ui), checked on every request by the API's own
 * `principalOfBearer`. Every POST form carries a CSRF token derived from the session's token; the
 * login form, which has no session yet, carries a random one that must match a short-lived cookie.
 * No token ever appears in a URL.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { principalOfBearer } from '../auth.js';
import type { ApiDeps, Principal } from '../deps.js';
import { ProblemError } from '../problem.js';

export const SESSION_COOKIE = 'certflow_session';
export const LOGIN_CSRF_COOKIE = 'certflow_login_csrf';
/** The hidden form field every POST form carries. */
export const CSRF_FIELD = 'csrf';
const SESSION_MAX_AGE_SECONDS = 8 * 3600;

export interface UiSession {
  bearer: string;
  principal: Principal;
  csrf: string;
}

export type UiEnv = { Variables: { session: UiSession; nonce: string } };

/** The session's CSRF token: unguessable without the session's API token, the same for every form of the session. */
export function csrfTokenOf(bearer: string): string {
  return createHmac('sha256', bearer).update('certflow-ui-csrf').digest('base64url');
}

export function sameSecret(given: string | undefined, expected: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieOptions(c: Context, maxAge: number) {
  return { path: '/ui', httpOnly: true, sameSite: 'Strict' as const, secure: new URL(c.req.url).protocol === 'https:', maxAge };
}

/** The session of the request, or null when there is none or its token no longer opens the API. */
export async function currentSession(deps: ApiDeps, c: Context): Promise<UiSession | null> {
  const bearer = getCookie(c, SESSION_COOKIE);
  if (!bearer || bearer.length > 4096) return null;
  try {
    const principal = await principalOfBearer(deps, bearer);
    return { bearer, principal, csrf: csrfTokenOf(bearer) };
  } catch (error) {
    if (error instanceof ProblemError && error.status === 401) return null;
    throw error;
  }
}

export function startSession(c: Context, bearer: string): void {
  setCookie(c, SESSION_COOKIE, bearer, cookieOptions(c, SESSION_MAX_AGE_SECONDS));
  deleteCookie(c, LOGIN_CSRF_COOKIE, { path: '/ui' });
}

export function endSession(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, { path: '/ui', secure: new URL(c.req.url).protocol === 'https:' });
}

/** A fresh login-form CSRF token, also set as a cookie the login POST must echo. */
export function issueLoginCsrf(c: Context): string {
  const token = randomBytes(24).toString('base64url');
  setCookie(c, LOGIN_CSRF_COOKIE, token, cookieOptions(c, 3600));
  return token;
}

export function loginCsrfMatches(c: Context, given: string | undefined): boolean {
  const expected = getCookie(c, LOGIN_CSRF_COOKIE);
  return expected !== undefined && sameSecret(given, expected);
}

/**
 * What every ACME handler needs: the platform's ACME settings, the URLs it hands out (built from the
 * request's own origin, so that each host name a client uses gets URLs on that host), and the
 * checked JWS of a POST (api/acme/jws.ts), with its nonce spent and its account loaded.
 */
import type { Context } from 'hono';
import type { JWK } from 'jose';
import { spendNonce } from '../../db/acme-nonces.js';
import { findAccount, type AcmeAccountRow } from '../../db/acme-accounts.js';
import type { ApiDeps, RateLimitConfig } from '../deps.js';
import type { EabSecret } from './eab.js';
import { MAX_JWS_BYTES, parseJws, payloadJson, publicAccountJwk, verifyJwsSignature, type ProtectedHeader } from './jws.js';
import { NonceMinter } from './nonces.js';
import { AcmeRateLimiter } from './rate-limit.js';
import { AcmeProblem } from './problem.js';

export interface AcmeConfig {
  /** Derives the MAC key of each external account binding key. */
  eabSecret: EabSecret;
  /** Accounts without external account binding (not bound to a team, so they can order nothing); off by default. */
  allowUnboundAccounts: boolean;
  /** Validity of certificates issued over ACME, capped by the team's policy. */
  validitySeconds: number;
}

export type AcmeDeps = ApiDeps & { acme: AcmeConfig };

const minters = new WeakMap<AcmeConfig, NonceMinter>();
const limiters = new WeakMap<RateLimitConfig, AcmeRateLimiter>();

/** The per-team limiter of this configuration, when the platform limits request rates. */
function rateLimiter(deps: AcmeDeps): AcmeRateLimiter | null {
  if (!deps.rateLimit) return null;
  let limiter = limiters.get(deps.rateLimit);
  if (!limiter) limiters.set(deps.rateLimit, (limiter = new AcmeRateLimiter(deps.rateLimit)));
  return limiter;
}

/** The nonce minter of this configuration (one per process and secret). */
export function nonceMinter(deps: AcmeDeps): NonceMinter {
  let minter = minters.get(deps.acme);
  if (!minter) minters.set(deps.acme, (minter = new NonceMinter(deps.acme.eabSecret.nonceKey())));
  return minter;
}

export interface AcmeUrls {
  directory: string;
  newNonce: string;
  newAccount: string;
  newOrder: string;
  revokeCert: string;
  keyChange: string;
  renewalInfo: string;
  account: (id: string) => string;
  accountOrders: (id: string) => string;
  order: (id: string) => string;
  finalize: (id: string) => string;
  authorization: (id: string) => string;
  challenge: (id: string) => string;
  certificate: (versionId: string) => string;
}

export function acmeUrls(c: Context): AcmeUrls {
  const base = `${new URL(c.req.url).origin}/acme`;
  return {
    directory: `${base}/directory`,
    newNonce: `${base}/new-nonce`,
    newAccount: `${base}/new-account`,
    newOrder: `${base}/new-order`,
    revokeCert: `${base}/revoke-cert`,
    keyChange: `${base}/key-change`,
    renewalInfo: `${base}/renewal-info`,
    account: (id) => `${base}/acct/${id}`,
    accountOrders: (id) => `${base}/acct/${id}/orders`,
    order: (id) => `${base}/order/${id}`,
    finalize: (id) => `${base}/order/${id}/finalize`,
    authorization: (id) => `${base}/authz/${id}`,
    challenge: (id) => `${base}/chall/${id}`,
    certificate: (versionId) => `${base}/cert/${versionId}`,
  };
}

/** A POST whose JWS checked out: signed by `jwk` (the account's key when `account` is set). */
export interface AcmeRequest {
  header: ProtectedHeader;
  jwk: JWK;
  account: AcmeAccountRow | null;
  /** null for POST-as-GET. */
  payload: unknown;
  urls: AcmeUrls;
}

export type KeyMode = 'jwk' | 'kid' | 'either';

/**
 * Checks the request's JWS (RFC 8555 §6.2-6.5): content type, size, form, algorithm and key,
 * signature, `url` equal to the URL requested, and the nonce, which is spent only by a request
 * that passed every other check. `kid` requests must come from a valid account.
 */
export async function verifyAcmeRequest(c: Context, deps: AcmeDeps, mode: KeyMode): Promise<AcmeRequest> {
  const contentType = c.req.header('content-type')?.split(';')[0]?.trim().toLowerCase();
  if (contentType !== 'application/jose+json') throw new AcmeProblem('malformed', 'send ACME requests with "Content-Type: application/jose+json"', { status: 415 });
  const declared = Number(c.req.header('content-length') ?? '0');
  if (declared > MAX_JWS_BYTES) throw new AcmeProblem('malformed', `the request body must not exceed ${MAX_JWS_BYTES} bytes`, { status: 413 });
  const raw = await c.req.arrayBuffer();
  if (raw.byteLength > MAX_JWS_BYTES) throw new AcmeProblem('malformed', `the request body must not exceed ${MAX_JWS_BYTES} bytes`, { status: 413 });
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw new AcmeProblem('malformed', 'the request body is not UTF-8');
  }
  const { jws, header } = parseJws(text);
  const urls = acmeUrls(c);
  if (header.url !== c.req.url) throw new AcmeProblem('unauthorized', `the JWS "url" (${header.url}) is not the URL requested (${c.req.url})`);

  let jwk: JWK;
  let account: AcmeAccountRow | null = null;
  if (header.jwk) {
    if (mode === 'kid') throw new AcmeProblem('malformed', 'this request must be signed by an account: use "kid", not "jwk"');
    jwk = publicAccountJwk(header.jwk, header.alg);
  } else {
    if (mode === 'jwk') throw new AcmeProblem('malformed', 'this request must carry the key itself: use "jwk", not "kid"');
    account = await accountOfKid(deps, header.kid!, urls);
    jwk = publicAccountJwk(account.jwk, header.alg);
  }
  const payload = await verifyJwsSignature(jws, jwk, header.alg);
  const now = deps.now();
  const expiresAt = nonceMinter(deps).expiryOf(header.nonce, now);
  if (!expiresAt || !(await spendNonce(deps.db, header.nonce, expiresAt, now))) {
    throw new AcmeProblem('badNonce', 'the nonce is unknown, expired or already used; retry with the fresh one in Replay-Nonce');
  }
  // After the nonce is spent: a replayed request cannot spend the team's budget.
  if (account && !c.req.path.endsWith('/revoke-cert')) rateLimiter(deps)?.take(account.teamId ?? account.id, now.getTime());
  return { header, jwk, account, payload: payloadJson(payload), urls };
}

async function accountOfKid(deps: AcmeDeps, kid: string, urls: AcmeUrls): Promise<AcmeAccountRow> {
  const prefix = urls.account('');
  const id = kid.startsWith(prefix) ? kid.slice(prefix.length) : '';
  const account = /^acct_[a-z2-7]{20}$/.test(id) ? await findAccount(deps.db, id) : null;
  if (!account) throw new AcmeProblem('accountDoesNotExist', `no account at ${kid}`);
  if (account.status !== 'valid') throw new AcmeProblem('unauthorized', `the account is ${account.status}`);
  return account;
}

/** The payload of a request that must not be POST-as-GET, as an object. */
export function objectPayload(request: AcmeRequest): Record<string, unknown> {
  const { payload } = request;
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw new AcmeProblem('malformed', 'the JWS payload must be a JSON object');
  return payload as Record<string, unknown>;
}

/** Refuses anything but POST-as-GET (an empty payload) where the RFC asks for one. */
export function requirePostAsGet(request: AcmeRequest): void {
  if (request.payload !== null) throw new AcmeProblem('malformed', 'this resource is read with POST-as-GET: send an empty payload');
}

/** The account of a kid-signed request that is bound to a team (only bound accounts may order). */
export function boundAccount(request: AcmeRequest): AcmeAccountRow & { teamId: string } {
  const account = request.account!;
  if (!account.teamId) throw new AcmeProblem('unauthorized', 'this account is not bound to a team; register with external account binding');
  return account as AcmeAccountRow & { teamId: string };
}

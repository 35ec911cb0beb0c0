/**
 * What every ACME handler needs: the platform's ACME settings, the URLs it hands out (built from the
 * request's own origin, so that each host name a client uses gets URLs on that host), and the
 * checked JWS of a POST (api/acme/jws.ts), with its nonce spent and its account loaded.
 */
import type { Context } from 'hono';
import type { FlattenedJWS, JWK } from 'jose';
import { spendNonce, spendNonceOfAccount } from '../../db/acme-nonces.js';
import { findAccount, type AcmeAccountRow } from '../../db/acme-accounts.js';
import { findTeam, type TeamRow } from '../../db/teams.js';
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
  /** The account's team, when it was read with the account (the request's own statement); else null. */
  team: TeamRow | null;
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

  if (header.jwk) {
    if (mode === 'kid') throw new AcmeProblem('malformed', 'this request must be signed by an account: use "kid", not "jwk"');
  } else if (mode === 'jwk') {
    throw new AcmeProblem('malformed', 'this request must carry the key itself: use "jwk", not "kid"');
  }
  const now = deps.now();
  const signed = header.jwk ? await verifyWithJwk(deps, jws, header, now) : await verifyWithAccount(deps, jws, header, accountIdOfKid(header.kid!, urls), now);
  const { jwk, account, team, payload } = signed;
  // After the nonce is spent: a replayed request cannot spend the team's budget.
  if (account && !c.req.path.endsWith('/revoke-cert')) rateLimiter(deps)?.take(account.teamId ?? account.id, now.getTime());
  return { header, jwk, account, team, payload: payloadJson(payload), urls };
}

type SignedBy = { jwk: JWK; account: AcmeAccountRow | null; team: TeamRow | null; payload: Uint8Array };

const BAD_NONCE = 'the nonce is unknown, expired or already used; retry with the fresh one in Replay-Nonce';

async function verifyWithJwk(deps: AcmeDeps, jws: FlattenedJWS, header: ProtectedHeader, now: Date): Promise<SignedBy> {
  const jwk = publicAccountJwk(header.jwk!, header.alg);
  const payload = await verifyJwsSignature(jws, jwk, header.alg);
  const expiresAt = nonceMinter(deps).expiryOf(header.nonce, now);
  if (!expiresAt || !(await spendNonce(deps.db, header.nonce, expiresAt, now))) throw new AcmeProblem('badNonce', BAD_NONCE);
  return { jwk, account: null, team: null, payload };
}

/**
 * A kid-signed request. The account's row as this replica last saw it gives the key to verify
 * with; then one statement reads the account again and spends the nonce only if the account is
 * still valid with that same key. When it is not (deactivated, key changed, first request), the
 * checks run again on the row just read, and the nonce is spent on its own.
 */
async function verifyWithAccount(deps: AcmeDeps, jws: FlattenedJWS, header: ProtectedHeader, accountId: string | null, now: Date): Promise<SignedBy> {
  const expiresAt = nonceMinter(deps).expiryOf(header.nonce, now);
  const known = accountId ? knownAccounts.get(accountId) : undefined;
  // A signature that does not verify with the remembered key may be by the account's new key: look again.
  const verified = known?.status === 'valid' ? await verifyWith(jws, known.jwk, header).catch(() => null) : null;
  if (known && verified) {
    const { jwk, payload } = verified;
    if (!expiresAt) throw new AcmeProblem('badNonce', BAD_NONCE);
    const { account, team, spent } = await spendNonceOfAccount(deps.db, { nonce: header.nonce, expiresAt, accountId: known.id, thumbprint: known.thumbprint, now });
    rememberAccount(known.id, account);
    if (spent) return { jwk, account: account!, team, payload };
    if (account?.status === 'valid' && account.thumbprint === known.thumbprint) throw new AcmeProblem('badNonce', BAD_NONCE);
  }
  const account = accountId ? await findAccount(deps.db, accountId) : null;
  rememberAccount(accountId, account);
  if (!account) throw new AcmeProblem('accountDoesNotExist', `no account at ${header.kid}`);
  if (account.status !== 'valid') throw new AcmeProblem('unauthorized', `the account is ${account.status}`);
  const { jwk, payload } = await verifyWith(jws, account.jwk, header);
  if (!expiresAt || !(await spendNonce(deps.db, header.nonce, expiresAt, now))) throw new AcmeProblem('badNonce', BAD_NONCE);
  return { jwk, account, team: null, payload };
}

async function verifyWith(jws: FlattenedJWS, accountJwk: JWK, header: ProtectedHeader): Promise<{ jwk: JWK; payload: Uint8Array }> {
  const jwk = publicAccountJwk(accountJwk, header.alg);
  return { jwk, payload: await verifyJwsSignature(jws, jwk, header.alg) };
}

/**
 * Accounts as this replica last read them, by id: only which key to verify a request with. Whether
 * the account may act is decided by the statement that spends the request's nonce.
 */
const knownAccounts = new Map<string, AcmeAccountRow>();
const KNOWN_ACCOUNTS_MAX = 10_000;

function rememberAccount(id: string | null, account: AcmeAccountRow | null): void {
  if (!id) return;
  knownAccounts.delete(id);
  if (!account) return;
  if (knownAccounts.size >= KNOWN_ACCOUNTS_MAX) knownAccounts.delete(knownAccounts.keys().next().value!);
  knownAccounts.set(id, account);
}

function accountIdOfKid(kid: string, urls: AcmeUrls): string | null {
  const prefix = urls.account('');
  const id = kid.startsWith(prefix) ? kid.slice(prefix.length) : '';
  return /^acct_[a-z2-7]{20}$/.test(id) ? id : null;
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

/** The team of a request's account (or of its order): the one read with the account when it is that team. */
export async function teamOfRequest(deps: AcmeDeps, request: AcmeRequest, teamId: string): Promise<TeamRow> {
  const team = request.team?.id === teamId ? request.team : await findTeam(deps.db, teamId);
  if (!team) throw new AcmeProblem('unauthorized', 'the account\'s team no longer exists');
  return team;
}

/** The account of a kid-signed request that is bound to a team (only bound accounts may order). */
export function boundAccount(request: AcmeRequest): AcmeAccountRow & { teamId: string } {
  const account = request.account!;
  if (!account.teamId) throw new AcmeProblem('unauthorized', 'this account is not bound to a team; register with external account binding');
  return account as AcmeAccountRow & { teamId: string };
}

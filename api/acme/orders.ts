/**
 * ACME orders, authorizations and challenges (RFC 8555 §7.4-7.5). An order names identifiers the
 * account's team policy allows (the one policy chain in core/policy.ts); with the team's
 * `acme.preauthorized` its authorizations are valid at once, otherwise each offers the challenge
 * types the team allows and a worker validates the one the client answers (workflows/acme-challenge.ts).
 */
import { randomBytes } from 'node:crypto';
import type { Context } from 'hono';
import {
  AUTHORIZATION_LIFETIME_SECONDS,
  CHALLENGE_TYPES,
  ORDER_LIFETIME_SECONDS,
  authorizationIdentifier,
  authorizationStatusAt,
  challengeAnswerRefusal,
  offeredChallengeTypes,
  type AcmeIdentifier,
} from '../../core/acme-order.js';
import { canonicalizeIp, IpError } from '../../core/ip.js';
import { canonicalizeDnsName, MAX_SANS, NameError } from '../../core/names.js';
import { policyViolations } from '../../core/policy.js';
import {
  authorizationChallenges,
  findAuthorization,
  findChallenge,
  findOrder,
  insertOrder,
  moveAuthorization,
  moveChallenge,
  orderAuthorizations,
  orderVersion,
  type AcmeAuthorizationRow,
  type AcmeOrderRow,
  type NewAuthorization,
} from '../../db/acme-orders.js';
import { newId } from '../../db/ids.js';
import { findCertificate, type VersionRow } from '../../db/certificates.js';
import type { TeamRow } from '../../db/teams.js';
import type { CertState } from '../../core/types.js';
import { acmeChallengeWorkflowId } from '../../contracts/acme-messages.js';
import { reservedNameIn } from '../reserved-names.js';
import { isUniqueViolation, replacedVersionId } from './replacement.js';
import { boundAccount, objectPayload, requirePostAsGet, teamOfRequest, verifyAcmeRequest, type AcmeDeps, type AcmeRequest } from './context.js';
import { AcmeProblem, acmeErrorUrn, type AcmeSubproblem } from './problem.js';
import { authorizationView, challengeView, currentOrderStatus, orderView } from './views.js';

export async function newOrder(c: Context, deps: AcmeDeps): Promise<Response> {
  const request = await verifyAcmeRequest(c, deps, 'kid');
  const account = boundAccount(request);
  const payload = objectPayload(request);
  if (payload['notBefore'] !== undefined || payload['notAfter'] !== undefined) {
    throw new AcmeProblem('malformed', 'notBefore and notAfter are not supported: the validity comes from the team policy');
  }
  const team = await teamOfRequest(deps, request, account.teamId);
  const identifiers = canonicalIdentifiers(payload['identifiers']);
  refuseOutsidePolicy(identifiers, team, deps);
  const reserved = reservedNameIn(
    { dnsNames: identifiers.filter((identifier) => identifier.type === 'dns').map((identifier) => identifier.value), ipAddresses: identifiers.filter((identifier) => identifier.type === 'ip').map((identifier) => identifier.value) },
    team.name,
    deps.reservedNames ?? [],
  );
  if (reserved) throw new AcmeProblem('rejectedIdentifier', `"${reserved}" is one of the platform's own names; only the platform may have certificates for it`);
  const replacesVersionId = payload['replaces'] === undefined ? null : await replacedVersionId(deps, payload['replaces'], account);

  const now = deps.now();
  const orderId = newId('ord');
  const preauthorized = team.policy.acme?.preauthorized ?? false;
  const allowedTypes = team.policy.acme?.challengeTypes ?? [...CHALLENGE_TYPES];
  const authorizations: NewAuthorization[] = uniqueAuthorizations(identifiers).map(({ identifier, wildcard }) => {
    const id = newId('authz');
    const offered = preauthorized ? [] : offeredChallengeTypes(identifier, wildcard, allowedTypes);
    if (!preauthorized && offered.length === 0) {
      throw new AcmeProblem('rejectedIdentifier', `no challenge type the team allows (${allowedTypes.join(', ')}) can validate ${wildcard ? '*.' : ''}${identifier.value}`);
    }
    return {
      row: {
        id,
        orderId,
        accountId: account.id,
        identifier,
        wildcard,
        status: preauthorized ? 'valid' : 'pending',
        expiresAt: new Date(now.getTime() + (preauthorized ? AUTHORIZATION_LIFETIME_SECONDS : ORDER_LIFETIME_SECONDS) * 1000),
      },
      challenges: offered.map((type) => ({ id: newId('chl'), authorizationId: id, type, token: randomBytes(32).toString('base64url'), status: 'pending' as const })),
    };
  });
  const order: AcmeOrderRow = {
    id: orderId,
    accountId: account.id,
    teamId: team.id,
    status: 'pending',
    identifiers,
    expiresAt: new Date(now.getTime() + ORDER_LIFETIME_SECONDS * 1000),
    error: null,
    replacesVersionId,
    certificateId: null,
    generation: null,
    csrPem: null,
    createdAt: now,
    updatedAt: now,
  };
  await insertOrder(deps.db, order, authorizations).catch((error: unknown) => {
    // acme_orders_replaces_uq: another order replaces the same certificate.
    if (replacesVersionId && isUniqueViolation(error)) throw new AcmeProblem('alreadyReplaced', 'that certificate is already being replaced by another order');
    throw error;
  });
  const rows = authorizations.map((authorization) => ({ ...authorization.row, wildcard: authorization.row.wildcard ?? false, createdAt: now }));
  const { status } = currentOrderStatus(order, rows, now);
  return c.json(orderView(order, status, rows, null, request.urls), 201, { Location: request.urls.order(orderId) });
}

/** POST-as-GET of an order: its status now, and the certificate URL once it is issued. */
export async function orderResource(c: Context, deps: AcmeDeps): Promise<Response> {
  const request = await verifyAcmeRequest(c, deps, 'kid');
  requirePostAsGet(request);
  const order = await ownOrder(deps, request, c.req.param('id')!);
  return c.json(await renderOrder(deps, order, request), 200, orderRetryAfter(order));
}

/** The order as the client sees it now; `known`: its authorizations and version, just read by the caller. */
export async function renderOrder(deps: AcmeDeps, order: AcmeOrderRow, request: AcmeRequest, known?: { authorizations: AcmeAuthorizationRow[]; version: Pick<VersionRow, 'id'> | null }) {
  const authorizations = known?.authorizations ?? (await orderAuthorizations(deps.db, order.id));
  const version = known ? known.version : order.status === 'processing' || order.status === 'valid' ? await orderVersion(deps.db, order) : null;
  const { status } = currentOrderStatus(order, authorizations, deps.now());
  if (order.status === 'processing' && !version) {
    const failure = await issuanceFailure(deps, order);
    if (failure) return orderView({ ...order, error: failure }, 'invalid', authorizations, null, request.urls);
  }
  const shown = order.status === 'processing' && version ? 'valid' : status;
  return orderView(order, shown, authorizations, version?.id ?? null, request.urls);
}

/** Certificate states in which a processing order's generation will not be issued (without an operator). */
const NOT_ISSUING: Partial<Record<CertState, string>> = {
  rejected: 'the issuance was rejected by an approver',
  approval_expired: 'no approver decided before the approval deadline',
  failed: 'the issuance failed and waits for an operator',
  revoked: 'the certificate was revoked',
  revoking: 'the certificate is being revoked',
};

/** Why a processing order will not become valid, as the order's error, or null while it still may. */
async function issuanceFailure(deps: AcmeDeps, order: AcmeOrderRow): Promise<Record<string, unknown> | null> {
  const certificate = order.certificateId ? await findCertificate(deps.db, order.certificateId) : null;
  const reason = certificate ? NOT_ISSUING[certificate.state] : undefined;
  if (!reason) return null;
  return { type: acmeErrorUrn('serverInternal'), detail: `${reason} (certificate ${certificate!.id})`, status: 500 };
}

/** Clients poll a processing order; say how soon (RFC 8555 §7.4). */
export function orderRetryAfter(order: AcmeOrderRow): Record<string, string> {
  return order.status === 'processing' ? { 'Retry-After': '1' } : {};
}

/** POST to an authorization: read it (POST-as-GET) or deactivate it. */
export async function authorizationResource(c: Context, deps: AcmeDeps): Promise<Response> {
  const request = await verifyAcmeRequest(c, deps, 'kid');
  const account = request.account!;
  const authorization = await findAuthorization(deps.db, c.req.param('id')!);
  if (!authorization || authorization.accountId !== account.id) throw notFound('authorization');
  if (request.payload !== null) {
    const payload = objectPayload(request);
    if (payload['status'] !== 'deactivated') throw new AcmeProblem('malformed', 'an authorization\'s status can only be changed to "deactivated"');
    const status = authorizationStatusAt(authorization.status, authorization.expiresAt, deps.now());
    if (status !== 'pending' && status !== 'valid') throw new AcmeProblem('malformed', `the authorization is ${status}; it cannot be deactivated`);
    await moveAuthorization(deps.db, authorization.id, ['pending', 'valid'], 'deactivated');
  }
  const current = request.payload === null ? authorization : (await findAuthorization(deps.db, authorization.id))!;
  const challenges = await authorizationChallenges(deps.db, [current.id]);
  return c.json(authorizationView(current, challenges, request.urls, deps.now()), 200, { Link: `<${request.urls.directory}>;rel="index"` });
}

/**
 * POST to a challenge: `{}` asks for validation (RFC 8555 §7.5.1), POST-as-GET reads it. The
 * validation runs in a workflow; the answer is the challenge as it is, `processing` until then.
 */
export async function challengeResource(c: Context, deps: AcmeDeps): Promise<Response> {
  const request = await verifyAcmeRequest(c, deps, 'kid');
  const account = request.account!;
  const challenge = await findChallenge(deps.db, c.req.param('id')!);
  const authorization = challenge ? await findAuthorization(deps.db, challenge.authorizationId) : null;
  if (!challenge || !authorization || authorization.accountId !== account.id) throw notFound('challenge');
  const up = { Link: `<${request.urls.authorization(authorization.id)}>;rel="up"` };
  if (request.payload === null) return c.json(challengeView(challenge, request.urls), 200, up);
  objectPayload(request);
  const refusal = challengeAnswerRefusal(challenge.status, authorizationStatusAt(authorization.status, authorization.expiresAt, deps.now()));
  if (refusal) throw new AcmeProblem('malformed', refusal);
  if (challenge.status === 'pending' && (await moveChallenge(deps.db, challenge.id, ['pending'], { status: 'processing' }))) {
    await deps.temporal.workflow
      .start('acmeChallengeValidation', {
        taskQueue: deps.taskQueue,
        workflowId: acmeChallengeWorkflowId(challenge.id),
        args: [{ challengeId: challenge.id }],
      })
      .catch(async (error: unknown) => {
        // Not handed over: put it back so that the client's retry starts it.
        await moveChallenge(deps.db, challenge.id, ['processing'], { status: 'pending' });
        throw error;
      });
  }
  const current = (await findChallenge(deps.db, challenge.id))!;
  return c.json(challengeView(current, request.urls), 200, up);
}

export async function ownOrder(deps: AcmeDeps, request: AcmeRequest, id: string): Promise<AcmeOrderRow> {
  const order = await findOrder(deps.db, id);
  if (!order || order.accountId !== request.account!.id) throw notFound('order');
  return order;
}

/** Another account's resource is answered like a missing one: its existence is not disclosed. */
function notFound(what: string): AcmeProblem {
  return new AcmeProblem('malformed', `no such ${what} for this account`, { status: 404 });
}

function canonicalIdentifiers(value: unknown): AcmeIdentifier[] {
  if (!Array.isArray(value) || value.length === 0) throw new AcmeProblem('malformed', '"identifiers" must be a non-empty array');
  if (value.length > MAX_SANS) throw new AcmeProblem('rejectedIdentifier', `an order may name at most ${MAX_SANS} identifiers`);
  const seen = new Map<string, AcmeIdentifier>();
  const subproblems: AcmeSubproblem[] = [];
  for (const entry of value) {
    if (typeof entry !== 'object' || entry === null || typeof (entry as AcmeIdentifier).value !== 'string' || typeof (entry as AcmeIdentifier).type !== 'string') {
      throw new AcmeProblem('malformed', 'each identifier must be {"type": "dns"|"ip", "value": "…"}');
    }
    const { type, value: raw } = entry as { type: string; value: string };
    if (raw.length > 300) throw new AcmeProblem('rejectedIdentifier', 'an identifier value is too long');
    try {
      let canonical: AcmeIdentifier;
      if (type === 'dns') canonical = { type: 'dns', value: canonicalizeDnsName(raw) };
      else if (type === 'ip') canonical = { type: 'ip', value: canonicalizeIp(raw) };
      else throw new AcmeProblem('unsupportedIdentifier', `identifier type ${JSON.stringify(type.slice(0, 20))} is not supported; use "dns" or "ip"`);
      seen.set(`${canonical.type}:${canonical.value}`, canonical);
    } catch (error) {
      if (!(error instanceof NameError || error instanceof IpError)) throw error;
      subproblems.push({ type: acmeErrorUrn('rejectedIdentifier'), detail: error.message, identifier: { type: type as 'dns', value: raw } });
    }
  }
  if (subproblems.length > 0) throw new AcmeProblem('rejectedIdentifier', 'some identifiers are not valid names', { subproblems });
  return [...seen.values()];
}

/** The team policy's name rules, through the same chain the API and the worker use; a refusal names each identifier. */
function refuseOutsidePolicy(identifiers: AcmeIdentifier[], team: TeamRow, deps: AcmeDeps): void {
  const policy = team.policy;
  const violations = policyViolations(
    {
      dnsNames: identifiers.filter((identifier) => identifier.type === 'dns').map((identifier) => identifier.value),
      ipAddresses: identifiers.filter((identifier) => identifier.type === 'ip').map((identifier) => identifier.value),
      uris: [],
      profile: 'tls-server',
      // The key is not known before finalize, which checks it; only the names are decided here.
      keyAlgorithm: policy.keyAlgorithms[0]!,
      validitySeconds: acmeValiditySeconds(deps, team),
    },
    policy,
  );
  if (violations.length === 0) return;
  const subproblems = violations.map((violation) => ({
    type: acmeErrorUrn('rejectedIdentifier'),
    detail: violation.message,
    ...(violation.name !== undefined ? { identifier: { type: violation.field === 'ipAddresses' ? ('ip' as const) : ('dns' as const), value: violation.name } } : {}),
  }));
  const named = violations.filter((violation) => violation.name !== undefined).map((violation) => violation.name);
  throw new AcmeProblem(
    'rejectedIdentifier',
    named.length > 0 ? `team "${team.name}" may not have certificates for ${named.join(', ')}` : `team "${team.name}"'s policy refuses this order: ${violations[0]!.message}`,
    { subproblems },
  );
}

/** The validity of an ACME certificate: the platform's, shortened to the team's maximum. */
export function acmeValiditySeconds(deps: AcmeDeps, team: TeamRow): number {
  return Math.min(deps.acme.validitySeconds, team.policy.maxValiditySeconds);
}

function uniqueAuthorizations(identifiers: AcmeIdentifier[]): { identifier: AcmeIdentifier; wildcard: boolean }[] {
  const byKey = new Map<string, { identifier: AcmeIdentifier; wildcard: boolean }>();
  for (const identifier of identifiers) {
    const entry = authorizationIdentifier(identifier);
    byKey.set(`${entry.wildcard}:${entry.identifier.type}:${entry.identifier.value}`, entry);
  }
  return [...byKey.values()];
}

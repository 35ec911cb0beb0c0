/** Bearer-token authentication (API tokens, or OpenID Connect JWTs when configured) and role checks, as middleware factories. */
import { createMiddleware } from 'hono/factory';
import { ROLES, type Role } from '../core/types.js';
import { appendAuditEvent } from '../db/audit.js';
import { ensureOidcPrincipal } from '../db/principals.js';
import { findTeam, findTeamByName } from '../db/teams.js';
import { findActiveToken, touchToken } from '../db/tokens.js';
import type { ApiDeps, AppEnv, Principal } from './deps.js';
import { looksLikeJwt, OidcRejected, type OidcVerifier } from './oidc.js';
import { problems } from './problem.js';

export function authenticate(deps: ApiDeps) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.header('authorization');
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) throw problems.unauthenticated('send an API token as "Authorization: Bearer <token>"');
    c.set('principal', await principalOfBearer(deps, match[1]!));
    await next();
  });
}

/** The principal a bearer (API token or OIDC JWT) stands for; 401 when it is unknown, expired or revoked. Also the dashboard's session check (api/ui/session.ts). */
export async function principalOfBearer(deps: ApiDeps, bearer: string): Promise<Principal> {
  if (deps.oidc && looksLikeJwt(bearer)) return oidcPrincipal(deps, deps.oidc, bearer);
  const now = deps.now();
  const token = await findActiveToken(deps.db, bearer, now);
  if (!token) throw problems.unauthenticated('the API token is unknown, expired or revoked; ask a team admin for a new one');
  await touchToken(deps.db, token.id, now);
  return { tokenId: token.id, principalId: token.principalId, accountableId: token.accountableTo ?? token.principalId, teamId: token.teamId, role: token.role };
}

/**
 * The principal of a valid OIDC token: its subject's `person` principal (created at the first
 * request), the team and role of its claims. OIDC tokens are always bound to one team.
 */
async function oidcPrincipal(deps: ApiDeps, verifier: OidcVerifier, jwt: string): Promise<Principal> {
  let identity;
  try {
    identity = await verifier.verify(jwt);
  } catch (error) {
    if (error instanceof OidcRejected) throw problems.unauthenticated(error.message);
    throw error;
  }
  const role = ROLES.find((candidate) => candidate === identity.role);
  if (!role) throw problems.unauthenticated(`the OIDC token's role claim must be one of ${ROLES.join(', ')}`);
  const team = typeof identity.team === 'string' && identity.team !== '' ? ((await findTeam(deps.db, identity.team)) ?? (await findTeamByName(deps.db, identity.team))) : null;
  if (!team) throw problems.unauthenticated("the OIDC token's team claim names no Certflow team");
  const { row, created } = await ensureOidcPrincipal(deps.db, { issuer: identity.issuer, subject: identity.subject, name: identity.name, email: identity.email, teamId: team.id });
  if (row.disabledAt) throw problems.unauthenticated(`principal ${row.id} is disabled`);
  if (created) {
    await appendAuditEvent(deps.db, {
      at: deps.now(),
      actor: row.id,
      action: 'principal.created',
      teamId: team.id,
      details: { principalId: row.id, kind: row.kind, name: row.name, oidcIssuer: identity.issuer, oidcSubject: identity.subject },
    });
  }
  return { tokenId: `oidc:${row.id}`, principalId: row.id, accountableId: row.accountableTo ?? row.id, teamId: team.id, role };
}

export function requireRole(...roles: Role[]) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const { role } = c.get('principal');
    if (role !== 'admin' && !roles.includes(role)) {
      throw problems.forbidden(`this action needs one of the roles ${[...roles, 'admin'].join(', ')}; the token has role "${role}"`);
    }
    await next();
  });
}

export function isPlatformAdmin(principal: Principal): boolean {
  return principal.role === 'admin' && principal.teamId === null;
}

/** A token sees only its own team's resources; platform admins see all. */
export function canAccessTeam(principal: Principal, teamId: string): boolean {
  return isPlatformAdmin(principal) || principal.teamId === teamId;
}

/** Bearer-token authentication and role checks, as middleware factories. */
import { createMiddleware } from 'hono/factory';
import type { Role } from '../core/types.js';
import { findActiveToken, touchToken } from '../db/tokens.js';
import type { ApiDeps, AppEnv, Principal } from './deps.js';
import { problems } from './problem.js';

export function authenticate(deps: ApiDeps) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.header('authorization');
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) throw problems.unauthenticated('send an API token as "Authorization: Bearer <token>"');
    const now = deps.now();
    const token = await findActiveToken(deps.db, match[1]!, now);
    if (!token) throw problems.unauthenticated('the API token is unknown, expired or revoked; ask a team admin for a new one');
    await touchToken(deps.db, token.id, now);
    c.set('principal', { tokenId: token.id, principalId: token.principalId, teamId: token.teamId, role: token.role });
    await next();
  });
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

/**
 * Who holds access to a team, and taking it away: `GET /v1/teams/:id/tokens` and
 * `GET /v1/teams/:id/agents` (never a secret or a hash), `DELETE /v1/tokens/:id` and
 * `DELETE /v1/agents/:id` (agents.ts). Team admins see and revoke their team's; platform admins all.
 * Revocation is idempotent and takes effect at the next request: every request looks the token up.
 */
import { auditActor } from '../audit-actor.js';
import { Hono } from 'hono';
import { listTeamAgents, type AgentRow } from '../../db/agents.js';
import { appendAuditEvent } from '../../db/audit.js';
import { findTeam, type TeamRow } from '../../db/teams.js';
import { findToken, listTeamTokens, revokeToken, type TokenRow } from '../../db/tokens.js';
import { canAccessTeam, isPlatformAdmin, requireRole } from '../auth.js';
import type { ApiDeps, AppEnv, Principal } from '../deps.js';
import { problems } from '../problem.js';

/** Mounted under `/v1/teams`. */
export function teamAccessRoutes(deps: ApiDeps) {
  const app = new Hono<AppEnv>();

  async function visibleTeam(caller: Principal, id: string): Promise<TeamRow> {
    const team = await findTeam(deps.db, id);
    if (!team || !canAccessTeam(caller, team.id)) throw problems.notFound(`no team "${id}" is visible to this token`);
    return team;
  }

  app.get('/:id/tokens', requireRole('admin'), async (c) => {
    const team = await visibleTeam(c.get('principal'), c.req.param('id'));
    return c.json({ items: (await listTeamTokens(deps.db, team.id)).map(tokenView) });
  });

  app.get('/:id/agents', requireRole('admin'), async (c) => {
    const team = await visibleTeam(c.get('principal'), c.req.param('id'));
    return c.json({ items: (await listTeamAgents(deps.db, team.id)).map(agentView) });
  });

  return app;
}

/** Mounted at `/v1/tokens`. */
export function tokenRoutes(deps: ApiDeps) {
  const app = new Hono<AppEnv>();

  app.delete('/:id', requireRole('admin'), async (c) => {
    const caller = c.get('principal');
    const id = c.req.param('id');
    const existing = await findToken(deps.db, id);
    // A team admin reaches its team's tokens; platform-wide tokens (the bootstrap token) only a platform admin.
    const visible = existing && (existing.teamId === null ? isPlatformAdmin(caller) : canAccessTeam(caller, existing.teamId));
    if (!existing || !visible) throw problems.notFound(`no token "${id}" is visible to this token`);
    const now = deps.now();
    const result = await revokeToken(deps.db, id, now);
    if (!result) throw problems.notFound(`no token "${id}" is visible to this token`);
    if (result.revokedNow) {
      await appendAuditEvent(deps.db, {
        at: now,
        ...auditActor(caller),
        action: 'token.revoked',
        teamId: result.row.teamId,
        details: { tokenId: id, principalId: result.row.principalId, role: result.row.role, bootstrap: result.row.teamId === null },
      });
    }
    return c.json(tokenView(result.row));
  });

  return app;
}

export function tokenView(row: TokenRow) {
  return {
    id: row.id,
    teamId: row.teamId,
    principalId: row.principalId,
    role: row.role,
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt?.toISOString() ?? null,
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}

export function agentView(row: AgentRow) {
  return {
    id: row.id,
    teamId: row.teamId,
    name: row.name,
    createdAt: row.createdAt.toISOString(),
    lastSeenAt: row.lastSeenAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}

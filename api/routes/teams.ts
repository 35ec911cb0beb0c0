/** `/v1/teams`: teams with their policy, and API tokens scoped to a team and a role. */
import { Hono } from 'hono';
import { findTeam, insertTeam } from '../../db/teams.js';
import { issueToken } from '../../db/tokens.js';
import { canAccessTeam, isPlatformAdmin, requireRole } from '../auth.js';
import type { ApiDeps, AppEnv } from '../deps.js';
import { problems } from '../problem.js';
import { createTeamSchema, createTokenSchema } from '../schemas.js';
import { parseJsonBody } from '../validation.js';
import { appendAuditEvent } from '../../db/audit.js';
import { auditActor } from '../audit-actor.js';

export function teamRoutes(deps: ApiDeps) {
  const app = new Hono<AppEnv>();

  app.post('/', requireRole('admin'), async (c) => {
    if (!isPlatformAdmin(c.get('principal'))) throw problems.forbidden('only a platform admin token (not bound to a team) can create teams');
    const body = await parseJsonBody(c, createTeamSchema);
    const { maxValidity, ...rest } = body.policy;
    const team = await insertTeam(deps.db, body.name, { ...rest, maxValiditySeconds: maxValidity });
    if (!team) throw problems.conflict(`a team named "${body.name}" already exists`);
    await appendAuditEvent(deps.db, { at: deps.now(), ...auditActor(c.get('principal')), action: 'team.created', teamId: team.id, details: { teamId: team.id, name: team.name, policy: team.policy } });
    return c.json({ id: team.id, name: team.name, policy: team.policy }, 201);
  });

  app.post('/:id/tokens', requireRole('admin'), async (c) => {
    const principal = c.get('principal');
    const teamId = c.req.param('id');
    const team = await findTeam(deps.db, teamId);
    if (!team || !canAccessTeam(principal, team.id)) throw problems.notFound(`no team "${teamId}" is visible to this token`);
    const body = await parseJsonBody(c, createTokenSchema);
    const expiresAt = body.expiresIn ? new Date(deps.now().getTime() + body.expiresIn * 1000) : null;
    const { id, token } = await issueToken(deps.db, { teamId: team.id, role: body.role, expiresAt });
    await appendAuditEvent(deps.db, { at: deps.now(), ...auditActor(principal), action: 'token.created', teamId: team.id, details: { tokenId: id, role: body.role, expiresAt: expiresAt?.toISOString() ?? null } });
    return c.json({ id, token, teamId: team.id, role: body.role, expiresAt: expiresAt?.toISOString() ?? null }, 201);
  });

  return app;
}

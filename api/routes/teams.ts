/** `/v1/teams`: teams with their policy, and API tokens scoped to a team and a role. */
import { Hono } from 'hono';
import { appendAuditEvent } from '../../db/audit.js';
import { findTeam, insertTeam, updateTeamPolicy } from '../../db/teams.js';
import { issueToken } from '../../db/tokens.js';
import { canAccessTeam, isPlatformAdmin, requireRole } from '../auth.js';
import type { ApiDeps, AppEnv } from '../deps.js';
import { problems } from '../problem.js';
import { createTeamSchema, createTokenSchema, patchTeamSchema } from '../schemas.js';
import { mergedPolicy, storedPolicy } from '../team-policy.js';
import { parseJsonBody } from '../validation.js';

export function teamRoutes(deps: ApiDeps) {
  const app = new Hono<AppEnv>();

  app.post('/', requireRole('admin'), async (c) => {
    if (!isPlatformAdmin(c.get('principal'))) throw problems.forbidden('only a platform admin token (not bound to a team) can create teams');
    const body = await parseJsonBody(c, createTeamSchema);
    const team = await insertTeam(deps.db, body.name, storedPolicy(body.policy));
    if (!team) throw problems.conflict(`a team named "${body.name}" already exists`);
    return c.json({ id: team.id, name: team.name, policy: team.policy }, 201);
  });

  /** Any token of the team may read its policy (it explains refusals); platform admins read every team's. */
  app.get('/:id', async (c) => {
    const teamId = c.req.param('id');
    const team = await findTeam(deps.db, teamId);
    if (!team || !canAccessTeam(c.get('principal'), team.id)) throw problems.notFound(`no team "${teamId}" is visible to this token`);
    return c.json({ id: team.id, name: team.name, policy: team.policy, createdAt: team.createdAt.toISOString() });
  });

  /**
   * Only a platform admin changes a policy: a team admin must never loosen its own. The change is
   * recorded with the policy before and after; requests already stored are checked against the new
   * policy when they are next signed (the worker's pre-signing check), so tightening takes effect
   * on renewals too.
   */
  app.patch('/:id', requireRole('admin'), async (c) => {
    const principal = c.get('principal');
    const teamId = c.req.param('id');
    if (!isPlatformAdmin(principal)) {
      const own = principal.teamId === teamId;
      throw own ? problems.forbidden('only a platform admin token (not bound to a team) can change a team policy; a team cannot change its own') : problems.notFound(`no team "${teamId}" is visible to this token`);
    }
    const body = await parseJsonBody(c, patchTeamSchema);
    const changed = await updateTeamPolicy(deps.db, teamId, (before) => mergedPolicy(before, body.policy));
    if (!changed) throw problems.notFound(`no team "${teamId}" exists`);
    await appendAuditEvent(deps.db, {
      at: deps.now(),
      actor: principal.tokenId,
      action: 'team.policy_changed',
      teamId,
      details: { before: changed.before, after: changed.team.policy },
    });
    return c.json({ id: changed.team.id, name: changed.team.name, policy: changed.team.policy, createdAt: changed.team.createdAt.toISOString() });
  });

  app.post('/:id/tokens', requireRole('admin'), async (c) => {
    const principal = c.get('principal');
    const teamId = c.req.param('id');
    const team = await findTeam(deps.db, teamId);
    if (!team || !canAccessTeam(principal, team.id)) throw problems.notFound(`no team "${teamId}" is visible to this token`);
    const body = await parseJsonBody(c, createTokenSchema);
    const expiresAt = body.expiresIn ? new Date(deps.now().getTime() + body.expiresIn * 1000) : null;
    const { id, token } = await issueToken(deps.db, { teamId: team.id, role: body.role, expiresAt });
    return c.json({ id, token, teamId: team.id, role: body.role, expiresAt: expiresAt?.toISOString() ?? null }, 201);
  });

  return app;
}

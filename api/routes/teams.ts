/** `/v1/teams`: teams with their policy, and API tokens scoped to a team, a role and a principal. */
import { Hono } from 'hono';
import { appendAuditEvent } from '../../db/audit.js';
import { accountableIdOf, findPrincipal, insertPrincipal, type PrincipalRow } from '../../db/principals.js';
import { findTeam, insertTeam, updateTeamPolicy } from '../../db/teams.js';
import { issueToken } from '../../db/tokens.js';
import { canAccessTeam, isPlatformAdmin, requireRole } from '../auth.js';
import type { ApiDeps, AppEnv } from '../deps.js';
import { PLATFORM_TEAM_NAME } from '../acme/platform-team.js';
import { problems } from '../problem.js';
import { createTeamSchema, createTokenSchema, patchTeamSchema } from '../schemas.js';
import { mergedPolicy, storedPolicy } from '../team-policy.js';
import { parseJsonBody } from '../validation.js';
import { auditActor } from '../audit-actor.js';

export function teamRoutes(deps: ApiDeps) {
  const app = new Hono<AppEnv>();

  app.post('/', requireRole('admin'), async (c) => {
    if (!isPlatformAdmin(c.get('principal'))) throw problems.forbidden('only a platform admin token (not bound to a team) can create teams');
    const body = await parseJsonBody(c, createTeamSchema);
    if (body.name === PLATFORM_TEAM_NAME) throw problems.conflict(`"${PLATFORM_TEAM_NAME}" is the platform's own team (it holds the ACME listener's certificate); choose another name`);
    const team = await insertTeam(deps.db, body.name, storedPolicy(body.policy));
    if (!team) throw problems.conflict(`a team named "${body.name}" already exists`);
    await appendAuditEvent(deps.db, { at: deps.now(), ...auditActor(c.get('principal')), action: 'team.created', teamId: team.id, details: { teamId: team.id, name: team.name, policy: team.policy } });
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
      ...auditActor(principal),
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
    // Only admins mint, so no token gets a role above its minter's. Whoever mints holds the secret, so
    // a team admin mints only for principals that answer to it (itself, the services it created); a
    // token for another person comes from the platform admin. Approvals compare accountable principals,
    // so no token a team admin mints can approve that admin's own requests.
    let holder: PrincipalRow | null;
    if (body.principalId !== undefined) {
      holder = await findPrincipal(deps.db, body.principalId);
      if (!holder || holder.teamId !== team.id) {
        throw problems.validation(`principal "${body.principalId}" is not a principal of team "${team.name}"`, [{ field: 'principalId', message: 'must be a principal of this team' }]);
      }
      if (holder.disabledAt) throw problems.conflict(`principal "${holder.id}" is disabled`);
      if (!isPlatformAdmin(principal) && accountableIdOf(holder) !== principal.accountableId) {
        throw problems.forbidden(`principal "${holder.id}" does not answer to this token's principal: a token for another person is minted by the platform admin, since whoever mints a token holds its secret`);
      }
    } else {
      const accountableTo = isPlatformAdmin(principal) ? null : principal.accountableId;
      holder = await insertPrincipal(deps.db, { kind: 'service', name: `${body.role} token of team ${team.name}`, teamId: team.id, accountableTo });
    }
    const { id, token } = await issueToken(deps.db, { teamId: team.id, principalId: holder.id, role: body.role, expiresAt });
    await appendAuditEvent(deps.db, {
      at: deps.now(),
      ...auditActor(principal),
      action: 'token.minted',
      teamId: team.id,
      details: { tokenId: id, principalId: holder.id, role: body.role, expiresAt: expiresAt?.toISOString() ?? null },
    });
    return c.json({ id, token, teamId: team.id, principalId: holder.id, role: body.role, expiresAt: expiresAt?.toISOString() ?? null }, 201);
  });

  return app;
}

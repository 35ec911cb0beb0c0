/**
 * `/v1/principals`: the people and services tokens act for. A platform admin creates (and disables)
 * them for any team or platform-wide; a team admin only for its own team.
 */
import { auditActor } from '../audit-actor.js';
import { Hono } from 'hono';
import { appendAuditEvent } from '../../db/audit.js';
import { disablePrincipal, findPrincipal, insertPrincipal, listPrincipals, type PrincipalRow } from '../../db/principals.js';
import { findTeam, findTeamByName, type TeamRow } from '../../db/teams.js';
import { canAccessTeam, isPlatformAdmin, requireRole } from '../auth.js';
import type { ApiDeps, AppEnv, Principal } from '../deps.js';
import { problems } from '../problem.js';
import { createPrincipalSchema, listPrincipalsQuery } from '../schemas.js';
import { parseJsonBody, parseQuery } from '../validation.js';

export function principalRoutes(deps: ApiDeps) {
  const app = new Hono<AppEnv>();

  async function visibleTeam(caller: Principal, idOrName: string): Promise<TeamRow> {
    const team = (await findTeam(deps.db, idOrName)) ?? (await findTeamByName(deps.db, idOrName));
    if (!team || !canAccessTeam(caller, team.id)) throw problems.notFound(`no team "${idOrName}" is visible to this token`);
    return team;
  }

  app.post('/', requireRole('admin'), async (c) => {
    const caller = c.get('principal');
    const body = await parseJsonBody(c, createPrincipalSchema);
    const teamId = body.team !== undefined ? (await visibleTeam(caller, body.team)).id : caller.teamId;
    if (teamId === null && !isPlatformAdmin(caller)) throw problems.forbidden('only a platform admin can create platform-wide principals');
    // A principal a team admin creates answers to that admin: it cannot approve the admin's requests.
    const accountableTo = isPlatformAdmin(caller) ? null : caller.accountableId;
    const created = await insertPrincipal(deps.db, { kind: body.kind, name: body.name, email: body.email ?? null, teamId, accountableTo });
    await appendAuditEvent(deps.db, {
      at: deps.now(),
      ...auditActor(caller),
      action: 'principal.created',
      teamId,
      details: { principalId: created.id, kind: created.kind, name: created.name },
    });
    return c.json(principalView(created), 201);
  });

  app.get('/', requireRole('admin'), async (c) => {
    const caller = c.get('principal');
    const query = parseQuery(c, listPrincipalsQuery);
    const filter =
      query.team !== undefined ? { teamId: (await visibleTeam(caller, query.team)).id } : isPlatformAdmin(caller) ? { all: true as const } : { teamId: caller.teamId };
    const rows = await listPrincipals(deps.db, filter);
    return c.json({ items: rows.map(principalView) });
  });

  // A person leaves: every token of theirs (and their OIDC subject) stops working at its next request.
  app.delete('/:id', requireRole('admin'), async (c) => {
    const caller = c.get('principal');
    const id = c.req.param('id');
    const existing = await findPrincipal(deps.db, id);
    const visible = existing && (existing.teamId === null ? isPlatformAdmin(caller) : canAccessTeam(caller, existing.teamId));
    if (!existing || !visible) throw problems.notFound(`no principal "${id}" is visible to this token`);
    const now = deps.now();
    const result = await disablePrincipal(deps.db, id, now);
    if (!result) throw problems.notFound(`no principal "${id}" is visible to this token`);
    if (result.disabledNow) {
      await appendAuditEvent(deps.db, { at: now, ...auditActor(caller), action: 'principal.disabled', teamId: existing.teamId, details: { principalId: id, name: existing.name } });
    }
    return c.json(principalView(result.row));
  });

  return app;
}

export function principalView(row: PrincipalRow) {
  return {
    id: row.id,
    kind: row.kind,
    name: row.name,
    email: row.email,
    teamId: row.teamId,
    createdAt: row.createdAt.toISOString(),
    disabledAt: row.disabledAt?.toISOString() ?? null,
    accountableTo: row.accountableTo,
  };
}

/**
 * `GET /v1/errors`: error groups (db/error-groups.ts), "what is failing right now, and for how many".
 * A team's token sees its team's groups; a platform admin sees every group, platform ones included.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { listErrorGroups, type ErrorGroupView } from '../../db/error-groups.js';
import { findTeam, findTeamByName } from '../../db/teams.js';
import { canAccessTeam, isPlatformAdmin } from '../auth.js';
import type { ApiDeps, AppEnv } from '../deps.js';
import { problems } from '../problem.js';
import { parseQuery } from '../validation.js';

export const listErrorsQuery = z.strictObject({
  team: z.string().min(1).max(200).optional(),
  /** Groups whose last failure is at or after this time. */
  since: z.iso.datetime({ offset: true, message: 'must be an ISO-8601 date-time such as 2027-01-31T00:00:00Z' }).optional(),
  type: z.string().min(1).max(100).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export function errorRoutes(deps: ApiDeps) {
  const app = new Hono<AppEnv>();
  app.get('/', async (c) => {
    const principal = c.get('principal');
    const query = parseQuery(c, listErrorsQuery);
    let teamId: string | undefined;
    if (query.team) {
      const team = (await findTeam(deps.db, query.team)) ?? (await findTeamByName(deps.db, query.team));
      if (!team || !canAccessTeam(principal, team.id)) throw problems.forbidden(`this token cannot list the error groups of team "${query.team}"`);
      teamId = team.id;
    } else if (!isPlatformAdmin(principal)) {
      if (!principal.teamId) throw problems.forbidden('this token belongs to no team');
      teamId = principal.teamId;
    }
    const groups = await listErrorGroups(deps.db, { teamId, since: query.since ? new Date(query.since) : undefined, type: query.type, limit: query.limit });
    return c.json({ items: groups.map(errorGroupView) });
  });
  return app;
}

function errorGroupView(group: ErrorGroupView) {
  return {
    id: group.id,
    teamId: group.teamId,
    type: group.type,
    reason: group.reason,
    lastMessage: group.lastMessage,
    lastActivity: group.lastActivity,
    firstSeen: group.firstSeen.toISOString(),
    lastSeen: group.lastSeen.toISOString(),
    count: group.count,
    certificateCount: group.certificateCount,
    sampleCertificateIds: group.sampleCertificateIds,
  };
}

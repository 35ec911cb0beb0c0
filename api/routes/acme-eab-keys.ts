/**
 * External account binding keys for ACME (RFC 8555 §7.3.4), per team: `POST /v1/teams/:id/acme-eab-keys`
 * answers `{keyId, hmacKey}` once (the MAC key is derived, never stored: api/acme/eab.ts), `GET`
 * lists the keys without it, `DELETE …/:keyId` revokes one and the ACME accounts bound with it. Team admins for their team, platform
 * admins for any. An account bound with a key orders for that team, under its policy.
 */
import { Hono } from 'hono';
import { createEabKey, findEabKey, listEabKeys, revokeEabKey, type AcmeEabKeyRow } from '../../db/acme-accounts.js';
import { appendAuditEvent } from '../../db/audit.js';
import { findTeam, type TeamRow } from '../../db/teams.js';
import type { AcmeConfig } from '../acme/context.js';
import { auditActor } from '../audit-actor.js';
import { canAccessTeam, requireRole } from '../auth.js';
import type { ApiDeps, AppEnv, Principal } from '../deps.js';
import { problems } from '../problem.js';

/** Mounted under `/v1/teams`. */
export function acmeEabKeyRoutes(deps: ApiDeps) {
  const app = new Hono<AppEnv>();

  async function visibleTeam(caller: Principal, id: string): Promise<TeamRow> {
    const team = await findTeam(deps.db, id);
    if (!team || !canAccessTeam(caller, team.id)) throw problems.notFound(`no team "${id}" is visible to this token`);
    return team;
  }

  function acmeConfig(): AcmeConfig {
    if (!deps.acme) throw problems.unavailable('this platform does not serve ACME (CERTFLOW_ACME_PORT is 0), so it makes no EAB keys');
    return deps.acme;
  }

  app.post('/:id/acme-eab-keys', requireRole('admin'), async (c) => {
    const caller = c.get('principal');
    const team = await visibleTeam(caller, c.req.param('id'));
    const config = acmeConfig();
    const key = await createEabKey(deps.db, { teamId: team.id, createdByPrincipal: caller.accountableId });
    await appendAuditEvent(deps.db, { at: deps.now(), ...auditActor(caller), action: 'acme.eab_key_created', teamId: team.id, details: { keyId: key.id } });
    return c.json({ ...eabKeyView(key), hmacKey: config.eabSecret.macKey(key.id).toString('base64url') }, 201);
  });

  app.get('/:id/acme-eab-keys', requireRole('admin'), async (c) => {
    const team = await visibleTeam(c.get('principal'), c.req.param('id'));
    return c.json({ items: (await listEabKeys(deps.db, team.id)).map(eabKeyView) });
  });

  app.delete('/:id/acme-eab-keys/:keyId', requireRole('admin'), async (c) => {
    const caller = c.get('principal');
    const team = await visibleTeam(caller, c.req.param('id'));
    const keyId = c.req.param('keyId');
    const existing = await findEabKey(deps.db, keyId);
    if (!existing || existing.teamId !== team.id) throw problems.notFound(`team "${team.name}" has no EAB key "${keyId}"`);
    const revoked = await deps.db.transaction((tx) => revokeEabKey(tx, keyId, deps.now()));
    if (revoked) {
      await appendAuditEvent(deps.db, {
        at: deps.now(),
        ...auditActor(caller),
        action: 'acme.eab_key_revoked',
        teamId: team.id,
        details: { keyId, revokedAccounts: revoked.revokedAccounts },
      });
    }
    return c.json(eabKeyView(revoked?.key ?? existing));
  });

  return app;
}

/** An EAB key as the API shows it: never its MAC key (only `POST` answers that, once). */
export function eabKeyView(row: AcmeEabKeyRow) {
  return {
    keyId: row.id,
    teamId: row.teamId,
    createdBy: row.createdByPrincipal,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}

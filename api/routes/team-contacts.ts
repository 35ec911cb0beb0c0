/**
 * A team's notification contacts: `POST /v1/teams/:id/contacts` (a webhook, signed with a secret
 * sealed to the worker, or an email address), `GET` lists them (never a secret), `DELETE
 * …/:contactId` removes one. Team admins for their team, platform admins for any. A webhook URL
 * must be a host the team's `destinationHosts` allows (checked again by the worker before each POST).
 */
import { randomBytes } from 'node:crypto';
import { Hono } from 'hono';
import { sealContactSecret } from '../../ca/contact-secrets.js';
import { checkDestinationHost } from '../../core/destination-hosts.js';
import { webhookUrlForLogs } from '../../core/webhook-url.js';
import { appendAuditEventInTransaction } from '../../db/audit.js';
import { countContacts, insertContact, listContacts, lockTeamContacts, MAX_CONTACTS_PER_TEAM, newContactId, removeContact, type NewTeamContact, type TeamContactRow } from '../../db/team-contacts.js';
import { findTeam, type TeamRow } from '../../db/teams.js';
import { auditActor } from '../audit-actor.js';
import { canAccessTeam, requireRole } from '../auth.js';
import { createContactSchema } from '../contact-schemas.js';
import type { ApiDeps, AppEnv, Principal } from '../deps.js';
import { problems } from '../problem.js';
import { parseJsonBody } from '../validation.js';

/** Mounted under `/v1/teams`. */
export function teamContactRoutes(deps: ApiDeps) {
  const app = new Hono<AppEnv>();

  async function visibleTeam(caller: Principal, id: string): Promise<TeamRow> {
    const team = await findTeam(deps.db, id);
    if (!team || !canAccessTeam(caller, team.id)) throw problems.notFound(`no team "${id}" is visible to this token`);
    return team;
  }

  app.post('/:id/contacts', requireRole('admin'), async (c) => {
    const caller = c.get('principal');
    const team = await visibleTeam(caller, c.req.param('id'));
    const body = await parseJsonBody(c, createContactSchema);
    const id = newContactId();
    let generatedSecret: string | null = null;
    let contact: NewTeamContact & { id: string };
    if (body.channel === 'webhook') {
      const url = new URL(body.url);
      const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
      const refusal = checkDestinationHost(url.hostname, port, team.policy.destinationHosts, deps.destinationRules);
      if (refusal) throw problems.validation(refusal.message, [{ field: 'url', message: refusal.message, code: refusal.code }]);
      if (!deps.sealingPublicKey) throw problems.unavailable('webhook secrets cannot be sealed: this API has no sealing public key configured (CERTFLOW_SEALING_PUBLIC_KEY)');
      const secret = body.secret ?? (generatedSecret = randomBytes(32).toString('base64url'));
      contact = {
        id,
        teamId: team.id,
        channel: 'webhook',
        target: body.url,
        format: body.format,
        sealedSecret: sealContactSecret(deps.sealingPublicKey, secret, id),
        kinds: body.kinds ?? null,
        createdByPrincipal: caller.accountableId,
      };
    } else {
      contact = { id, teamId: team.id, channel: 'email', target: body.address, kinds: body.kinds ?? null, createdByPrincipal: caller.accountableId };
    }
    // The cap, the row and its audit event in one transaction: a refused or failed request changes nothing.
    const row = await deps.db.transaction(async (tx) => {
      await lockTeamContacts(tx, team.id);
      if ((await countContacts(tx, team.id)) >= MAX_CONTACTS_PER_TEAM) {
        throw problems.conflict(`team "${team.name}" already has ${MAX_CONTACTS_PER_TEAM} contacts, the most a team may have; remove one (DELETE /v1/teams/${team.id}/contacts/{contactId}) before adding another`);
      }
      const inserted = await insertContact(tx, contact);
      await appendAuditEventInTransaction(tx, deps.db, { at: deps.now(), ...auditActor(caller), action: 'team.contact_added', teamId: team.id, details: contactAuditView(inserted) });
      return inserted;
    });
    return c.json({ ...contactView(row), ...(generatedSecret ? { secret: generatedSecret } : {}) }, 201);
  });

  app.get('/:id/contacts', requireRole('admin'), async (c) => {
    const team = await visibleTeam(c.get('principal'), c.req.param('id'));
    return c.json({ items: (await listContacts(deps.db, team.id)).map(contactView) });
  });

  app.delete('/:id/contacts/:contactId', requireRole('admin'), async (c) => {
    const caller = c.get('principal');
    const team = await visibleTeam(caller, c.req.param('id'));
    const removed = await deps.db.transaction(async (tx) => {
      await lockTeamContacts(tx, team.id);
      const row = await removeContact(tx, team.id, c.req.param('contactId'), deps.now());
      if (!row) throw problems.notFound(`team "${team.name}" has no contact "${c.req.param('contactId')}"`);
      await appendAuditEventInTransaction(tx, deps.db, { at: deps.now(), ...auditActor(caller), action: 'team.contact_removed', teamId: team.id, details: contactAuditView(row) });
      return row;
    });
    return c.json(contactView(removed));
  });

  return app;
}

/** A contact as the audit log keeps it (append-only, read widely): a webhook URL as its origin and a hash of the rest. */
function contactAuditView(row: TeamContactRow) {
  const view = contactView(row);
  return 'url' in view ? { ...view, url: webhookUrlForLogs(row.target) } : view;
}

/** A contact as the API shows it: never its secret. */
export function contactView(row: TeamContactRow) {
  return {
    id: row.id,
    teamId: row.teamId,
    channel: row.channel,
    ...(row.channel === 'webhook' ? { url: row.target, format: row.format ?? 'certflow' } : { address: row.target }),
    kinds: row.kinds,
    createdBy: row.createdByPrincipal,
    createdAt: row.createdAt.toISOString(),
    removedAt: row.removedAt?.toISOString() ?? null,
  };
}

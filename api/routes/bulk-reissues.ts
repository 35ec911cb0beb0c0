/**
 * `/v1/bulk-reissues`: incident response. Preview a selection (dry run: reads only), start a
 * bulkReissue workflow over it, watch it, pause, resume or cancel it. A team's token selects within
 * its own team only; a platform admin may select across teams. The workflow stays the authority on
 * its state: its update validators decide whether a pause, resume or cancel is still possible.
 */
import { Hono } from 'hono';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import { EMPTY_COUNTS, type BulkOptions, type BulkSelector, type BulkState } from '../../core/bulk.js';
import { appendAuditEvent } from '../../db/audit.js';
import { countSignalled, deleteBulkOperation, findBulkOperation, insertBulkOperation, listBulkItems, listBulkOperations, summarizeSelection, type BulkItemRow, type BulkOperationRow } from '../../db/bulk.js';
import { newId } from '../../db/ids.js';
import { findIssuer } from '../../db/issuers.js';
import { findTeam, findTeamByName, type TeamRow } from '../../db/teams.js';
import { bulkWorkflowId } from '../../contracts/bulk-messages.js';
import { isPlatformAdmin, requireRole } from '../auth.js';
import { BULK_ACTIONS, executeBulkAction, queryBulkProgress, startBulkReissue, type BulkAction } from '../bulk-client.js';
import { bulkItemsQuery, bulkOperationsQuery, createBulkReissueSchema, DRY_RUN_SAMPLE_SIZE, type BulkSelectorBody } from '../bulk-schemas.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import type { ApiDeps, AppEnv, Principal } from '../deps.js';
import { problems } from '../problem.js';
import { parseJsonBody, parseQuery } from '../validation.js';
import { auditActor } from '../audit-actor.js';

const AUDIT_ACTIONS: Record<BulkAction, string> = { pause: 'bulk.paused', resume: 'bulk.resumed', cancel: 'bulk.cancelled' };
const FINISHED_STATES = new Set<BulkState>(['completed', 'cancelled', 'failed']);

export function bulkReissueRoutes(deps: ApiDeps) {
  const app = new Hono<AppEnv>();
  app.use('*', requireRole('responder'));

  /** The selector the workflow runs with: team names resolved, a team token confined to its team. */
  async function resolveSelector(principal: Principal, body: BulkSelectorBody): Promise<BulkSelector> {
    const teamIds = await resolveTeams(principal, body.teams);
    const issuerIds = body.issuers ? await existingIssuers(body.issuers) : undefined;
    const selector: BulkSelector = {
      issuerIds,
      teamIds,
      sanPattern: body.sanPattern,
      certificateIds: body.certificateIds ? unique(body.certificateIds) : undefined,
      serials: body.serials ? unique(body.serials) : undefined,
      keyAlgorithms: body.keyAlgorithms ? unique(body.keyAlgorithms) : undefined,
      profiles: body.profiles ? unique(body.profiles) : undefined,
      expiresAfter: body.expiresAfter ? new Date(body.expiresAfter).toISOString() : undefined,
      expiresBefore: body.expiresBefore ? new Date(body.expiresBefore).toISOString() : undefined,
    };
    // JSON only, without undefined members: the selector is stored and sent to the workflow as is.
    return Object.fromEntries(Object.entries(selector).filter(([, value]) => value !== undefined)) as BulkSelector;
  }

  async function resolveTeams(principal: Principal, requested: string[] | undefined): Promise<string[] | undefined> {
    if (isPlatformAdmin(principal)) {
      if (!requested) return undefined;
      const resolved = await Promise.all(requested.map(async (team) => ({ team, row: (await findTeam(deps.db, team)) ?? (await findTeamByName(deps.db, team)) })));
      const unknown = resolved.filter(({ row }) => !row).map(({ team }) => team);
      if (unknown.length > 0) {
        throw problems.validation(`selector.teams: no team ${unknown.map((team) => `"${team}"`).join(', ')}`, unknown.map((team) => ({ field: `selector/teams/${requested.indexOf(team)}`, message: `no team "${team}"` })));
      }
      return unique(resolved.map(({ row }) => row!.id));
    }
    if (!principal.teamId) throw problems.forbidden('this token belongs to no team');
    const own: TeamRow | null = await findTeam(deps.db, principal.teamId);
    if (!own) throw problems.forbidden('the team of this token no longer exists');
    const foreign = (requested ?? []).filter((team) => team !== own.id && team !== own.name);
    if (foreign.length > 0) {
      throw problems.forbidden(`this token selects within its own team "${own.name}" only; it cannot select team ${foreign.map((team) => `"${team}"`).join(', ')}`);
    }
    return [own.id];
  }

  async function existingIssuers(ids: string[]): Promise<string[]> {
    const wanted = unique(ids);
    const found = await Promise.all(wanted.map(async (id) => ({ id, row: await findIssuer(deps.db, id) })));
    const unknown = found.filter(({ row }) => !row).map(({ id }) => id);
    if (unknown.length > 0) {
      throw problems.validation(`selector.issuers: no issuer ${unknown.map((id) => `"${id}"`).join(', ')}`, unknown.map((id) => ({ field: `selector/issuers/${ids.indexOf(id)}`, message: `no issuer "${id}"` })));
    }
    return wanted;
  }

  /** An operation the caller may see: one created by a token of its team, or any for a platform admin. */
  async function visibleOperation(principal: Principal, id: string): Promise<BulkOperationRow> {
    const operation = await findBulkOperation(deps.db, id);
    if (operation && (isPlatformAdmin(principal) || (principal.teamId !== null && operation.teamId === principal.teamId))) {
      return operation;
    }
    throw problems.notFound(`no bulk operation "${id}" is visible to this token`);
  }

  app.post('/', async (c) => {
    const principal = c.get('principal');
    const body = await parseJsonBody(c, createBulkReissueSchema);
    const selector = await resolveSelector(principal, body.selector);

    if (body.dryRun) {
      const summary = await summarizeSelection(deps.db, selector, DRY_RUN_SAMPLE_SIZE);
      return c.json({
        dryRun: true as const,
        selector,
        count: summary.count,
        perTeam: summary.perTeam,
        sample: summary.sample.map((row) => ({
          certificateId: row.certificateId,
          commonName: row.commonName,
          dnsNames: row.dnsNames,
          serial: row.serial,
          issuerId: row.issuerId,
          notAfter: row.notAfter.toISOString(),
        })),
      });
    }

    const id = newId('blk');
    const options: BulkOptions = {
      reason: body.reason,
      maxConcurrent: body.maxConcurrent,
      maxPerSecond: body.maxPerSecond,
      revokeSuperseded: body.revokeSuperseded,
    };
    const workflowId = bulkWorkflowId(id);
    await insertBulkOperation(deps.db, { id, selector, options, state: 'running', counts: { ...EMPTY_COUNTS }, workflowId, createdBy: principal.tokenId, teamId: principal.teamId });
    try {
      await startBulkReissue(deps.temporal, deps.taskQueue, { bulkId: id, selector, options });
    } catch (error) {
      // No workflow means nothing will ever run it: remove the row so the request leaves no trace.
      await deleteBulkOperation(deps.db, id);
      throw problems.unavailable(`the bulk operation could not be handed to the workflow engine (${(error as Error).message}); nothing was started, retry later`);
    }
    await appendAuditEvent(deps.db, {
      at: deps.now(),
      ...auditActor(principal),
      action: 'bulk.started',
      teamId: principal.teamId,
      details: { bulkId: id, workflowId, selector, options },
    });
    return c.json({ id, workflowId, state: 'running' as const }, 202, { Location: `/v1/bulk-reissues/${id}` });
  });

  /** The operations `GET /:id` would show this token, newest first: its team's, or all for a platform admin. */
  app.get('/', async (c) => {
    const principal = c.get('principal');
    const query = parseQuery(c, bulkOperationsQuery);
    if (!isPlatformAdmin(principal) && !principal.teamId) throw problems.forbidden('this token belongs to no team');
    const rows = await listBulkOperations(deps.db, {
      teamId: isPlatformAdmin(principal) ? undefined : principal.teamId!,
      after: query.cursor ? decodeCursor('bulk-operations', query.cursor) : undefined,
      limit: query.limit + 1,
    });
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    return c.json({
      items: page.map(({ operation }) => bulkOperationView(operation)),
      nextCursor: rows.length > query.limit && last ? encodeCursor('bulk-operations', { at: last.createdAtKey, id: last.operation.id }) : null,
    });
  });

  app.get('/:id', async (c) => {
    const operation = await visibleOperation(c.get('principal'), c.req.param('id'));
    const query = parseQuery(c, bulkItemsQuery);
    // Once ended, the row holds the final state and counts; a query would only replay the history.
    const [progress, rows, acmeClients] = await Promise.all([
      FINISHED_STATES.has(operation.state) ? null : queryBulkProgress(deps.temporal, operation.workflowId),
      listBulkItems(deps.db, operation.id, { after: query.cursor ? decodeCursor('bulk-items', query.cursor).id : undefined, limit: query.limit + 1 }),
      countSignalled(deps.db, operation.id),
    ]);
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    return c.json({
      ...bulkOperationView(operation),
      progress,
      acmeClients,
      items: page.map(bulkItemView),
      nextCursor: rows.length > query.limit && last ? encodeCursor('bulk-items', { id: last.certificateId }) : null,
    });
  });

  for (const action of BULK_ACTIONS) {
    app.post(`/:id/${action}`, async (c) => {
      const principal = c.get('principal');
      const operation = await visibleOperation(principal, c.req.param('id'));
      if (FINISHED_STATES.has(operation.state)) throw problems.conflict(`bulk operation "${operation.id}" has ended (${operation.state}); it cannot ${action}`);
      let progress;
      try {
        progress = await executeBulkAction(deps.temporal, operation.workflowId, action, principal.tokenId);
      } catch (error) {
        if (error instanceof WorkflowUpdateFailedError) throw problems.conflict(error.cause?.message ?? error.message);
        if (error instanceof WorkflowNotFoundError) throw problems.conflict(`bulk operation "${operation.id}" has ended; it cannot ${action}`);
        if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
          throw problems.unavailable(`the bulk operation did not answer in time (no worker?); the ${action} may still take effect, check its state`);
        }
        throw error;
      }
      await appendAuditEvent(deps.db, {
        at: deps.now(),
        ...auditActor(principal),
        action: AUDIT_ACTIONS[action],
        teamId: principal.teamId,
        details: { bulkId: operation.id, workflowId: operation.workflowId, state: progress.state },
      });
      return c.json(progress);
    });
  }

  return app;
}

export function bulkOperationView(operation: BulkOperationRow) {
  return {
    id: operation.id,
    workflowId: operation.workflowId,
    selector: operation.selector,
    options: operation.options,
    state: operation.state,
    counts: operation.counts,
    createdBy: operation.createdBy,
    createdAt: operation.createdAt.toISOString(),
    finishedAt: operation.finishedAt?.toISOString() ?? null,
  };
}

export function bulkItemView(item: BulkItemRow) {
  return {
    certificateId: item.certificateId,
    oldVersionId: item.oldVersionId,
    newVersionId: item.newVersionId,
    outcome: item.outcome,
    reason: item.reason,
    revokedAt: item.revokedAt?.toISOString() ?? null,
    signalledAt: item.signalledAt?.toISOString() ?? null,
  };
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}

/**
 * `/v1/issuers/:id/compromise`: the issuer compromise drill (platform admins only). POST starts it
 * for an active intermediate — or again for a compromised one whose earlier drill stopped — and
 * GET says where it is and returns its report once done.
 */
import { Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { z } from 'zod';
import type { CompromiseReport } from '../../core/issuer-compromise.js';
import { appendAuditEvent } from '../../db/audit.js';
import { findLatestCompromiseReport } from '../../db/issuer-compromise.js';
import { findIssuer, type IssuerRow } from '../../db/issuers.js';
import { isPlatformAdmin } from '../auth.js';
import type { ApiDeps, AppEnv } from '../deps.js';
import { describeIssuerCompromise, startIssuerCompromise } from '../issuer-compromise-client.js';
import { problems } from '../problem.js';
import { parseJsonBody } from '../validation.js';
import { auditActor } from '../audit-actor.js';

export const startCompromiseSchema = z.strictObject({
  reason: z.string().trim().min(1, 'reason: say why, for the audit log and the report').max(500),
  maxConcurrent: z.number().int().min(1).max(1000).default(50),
  maxPerSecond: z.number().int().min(1).max(1000).default(50),
});

/** Issuer statuses a drill may start from: `compromised` resumes a drill that stopped. */
const STARTABLE = new Set<IssuerRow['status']>(['active', 'compromised']);

const platformAdminOnly = createMiddleware<AppEnv>(async (c, next) => {
  if (!isPlatformAdmin(c.get('principal'))) throw problems.forbidden('the issuer compromise drill needs a platform admin token');
  await next();
});

export function issuerCompromiseRoutes(deps: ApiDeps) {
  const app = new Hono<AppEnv>();

  async function knownIssuer(id: string): Promise<IssuerRow> {
    const issuer = await findIssuer(deps.db, id);
    if (!issuer) throw problems.notFound(`no issuer "${id}"`);
    return issuer;
  }

  app.post('/:id/compromise', platformAdminOnly, async (c) => {
    const principal = c.get('principal');
    const issuer = await knownIssuer(c.req.param('id'));
    const body = await parseJsonBody(c, startCompromiseSchema);
    if (issuer.kind !== 'intermediate') throw problems.conflict(`issuer "${issuer.id}" is a root; the drill replaces intermediates`);
    if (!STARTABLE.has(issuer.status)) throw problems.conflict(`issuer "${issuer.id}" is ${issuer.status}; the drill starts from an active intermediate`);
    let workflowId: string;
    try {
      workflowId = await startIssuerCompromise(deps.temporal, deps.taskQueue, {
        issuerId: issuer.id,
        reason: body.reason,
        requestedBy: principal.tokenId,
        maxConcurrent: body.maxConcurrent,
        maxPerSecond: body.maxPerSecond,
      });
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) throw problems.conflict(`a compromise drill for issuer "${issuer.id}" is already running`);
      throw error;
    }
    await appendAuditEvent(deps.db, {
      at: deps.now(),
      ...auditActor(principal),
      action: 'issuer.compromise_requested',
      details: { issuerId: issuer.id, workflowId, reason: body.reason, maxConcurrent: body.maxConcurrent, maxPerSecond: body.maxPerSecond },
    });
    return c.json({ workflowId, issuerId: issuer.id, state: 'running' as const }, 202, { Location: `/v1/issuers/${issuer.id}/compromise` });
  });

  app.get('/:id/compromise', platformAdminOnly, async (c) => {
    const issuer = await knownIssuer(c.req.param('id'));
    const run = await describeIssuerCompromise(deps.temporal, issuer.id);
    const stored = await findLatestCompromiseReport(deps.db, issuer.id);
    // The stored report lists everything; the workflow's copy may be capped.
    const storedReport = stored ? (stored.details as unknown as CompromiseReport) : null;
    if (!run) {
      if (!storedReport) throw problems.notFound(`no compromise drill has run for issuer "${issuer.id}"`);
      return c.json({ issuerId: issuer.id, state: 'completed' as const, report: storedReport });
    }
    switch (run.state) {
      case 'running':
        return c.json({ issuerId: issuer.id, state: run.state, phase: run.status?.phase ?? null, successorId: run.status?.successorId ?? null, bulkId: run.status?.bulkId ?? null, lastError: run.status?.lastError ?? null, report: null });
      case 'completed':
        return c.json({ issuerId: issuer.id, state: run.state, report: storedReport?.bulkId === run.report.bulkId ? storedReport : run.report });
      case 'failed':
        return c.json({ issuerId: issuer.id, state: run.state, error: run.error, report: null });
    }
  });

  return app;
}

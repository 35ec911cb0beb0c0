/**
 * `certflow agent` hosts. `POST /v1/agents` (API token: admin of the team) registers a host and
 * shows its token once. The agent itself, with that token only, pulls its assignments from
 * `/v1/agent/*`, answers CSR requests and reports what it deployed. Refusals write nothing.
 */
import { Hono } from 'hono';
import { checkRequest, IssuanceError } from '../../ca/issuance.js';
import { findAgentCsr, findAgentDelivery, findAgentRecord, listCsrRequests, listDeployments, recordDeploymentReport, registerAgent, revokeAgent, submitCsr } from '../../db/agents.js';
import { appendAuditEvent } from '../../db/audit.js';
import { databaseKeyBlocklist } from '../../db/blocked-keys.js';
import { findCertificate, issuanceRequestOf } from '../../db/certificates.js';
import { findTeam, findTeamByName } from '../../db/teams.js';
import { authenticateAgent, type AgentEnv } from '../agent-auth.js';
import { deploymentReportSchema, registerAgentSchema, submitCsrSchema } from '../../contracts/agent-wire.js';
import { canAccessTeam, requireRole } from '../auth.js';
import type { ApiDeps, AppEnv } from '../deps.js';
import { policyProblem } from '../policy-problem.js';
import { problems, type ProblemError } from '../problem.js';
import { parseJsonBody } from '../validation.js';
import { agentView } from './tokens.js';
import { auditActor } from '../audit-actor.js';

/** Registration, mounted under the API-token-authenticated `/v1`. */
export function agentRoutes(deps: ApiDeps) {
  const app = new Hono<AppEnv>();

  app.post('/', requireRole('admin'), async (c) => {
    const principal = c.get('principal');
    const body = await parseJsonBody(c, registerAgentSchema);
    const team = (await findTeam(deps.db, body.team)) ?? (await findTeamByName(deps.db, body.team));
    if (!team || !canAccessTeam(principal, team.id)) throw problems.notFound(`no team "${body.team}" is visible to this token`);
    const registered = await registerAgent(deps.db, { teamId: team.id, name: body.name });
    if (!registered) throw problems.conflict(`team "${team.name}" already has an agent named "${body.name}"`);
    await appendAuditEvent(deps.db, { at: deps.now(), ...auditActor(principal), action: 'agent.registered', teamId: team.id, details: { agentId: registered.id, name: body.name } });
    return c.json({ id: registered.id, token: registered.token, teamId: team.id, name: body.name }, 201);
  });

  // Idempotent; the agent's token stops working at its next request (every request looks it up).
  app.delete('/:id', requireRole('admin'), async (c) => {
    const principal = c.get('principal');
    const id = c.req.param('id');
    const existing = await findAgentRecord(deps.db, id);
    if (!existing || !canAccessTeam(principal, existing.teamId)) throw problems.notFound(`no agent "${id}" is visible to this token`);
    const now = deps.now();
    const result = await revokeAgent(deps.db, id, now);
    if (!result) throw problems.notFound(`no agent "${id}" is visible to this token`);
    if (result.revokedNow) {
      await appendAuditEvent(deps.db, { at: now, ...auditActor(principal), action: 'agent.revoked', teamId: existing.teamId, details: { agentId: id, name: existing.name } });
    }
    return c.json(agentView(result.row));
  });

  return app;
}

/** What agents call, with their own token; mounted at `/v1/agent`, outside the API-token middleware. */
export function agentApiRoutes(deps: ApiDeps) {
  const app = new Hono<AgentEnv>();
  app.use('*', authenticateAgent(deps));

  app.get('/assignments', async (c) => {
    const agent = c.get('agent');
    const [csrRequests, deployments] = await Promise.all([listCsrRequests(deps.db, agent.id), listDeployments(deps.db, agent.id)]);
    return c.json({ csrRequests, deployments });
  });

  app.post('/csr', async (c) => {
    const agent = c.get('agent');
    const body = await parseJsonBody(c, submitCsrSchema);
    const request = await findAgentCsr(deps.db, body.certificateId, body.generation);
    if (!request || request.agentId !== agent.id) {
      throw problems.notFound(`no CSR request for ${body.certificateId} generation ${body.generation} is open for this agent`);
    }
    if (request.csrPem !== null) {
      if (request.csrPem.trim() === body.csr.trim()) return c.json({ certificateId: body.certificateId, generation: body.generation, status: 'accepted' });
      throw problems.conflict(`a different CSR was already accepted for ${body.certificateId} generation ${body.generation}`);
    }
    const certificate = await findCertificate(deps.db, body.certificateId);
    const team = certificate ? await findTeam(deps.db, certificate.teamId) : null;
    if (!certificate || !team) throw problems.notFound(`certificate ${body.certificateId} no longer exists`);
    if (certificate.keySource !== 'agent') throw problems.conflict(`the key of ${certificate.id} is not made on an agent (key source "${certificate.keySource}")`);

    try {
      const checked = await checkRequest(issuanceRequestOf(certificate, team.policy, { csrPem: body.csr }), databaseKeyBlocklist(deps.db));
      if (checked.keyAlgorithm !== certificate.keyAlgorithm) {
        throw problems.validation(`the certificate needs a ${certificate.keyAlgorithm} key but the csr carries a ${checked.keyAlgorithm} key`, [
          { field: 'csr', message: `must carry a ${certificate.keyAlgorithm} key` },
        ]);
      }
    } catch (error) {
      if (error instanceof IssuanceError) throw csrProblem(error);
      throw error;
    }
    const stored = await submitCsr(deps.db, { agentId: agent.id, certificateId: certificate.id, generation: body.generation, csrPem: body.csr, now: deps.now() });
    if (!stored) throw problems.conflict(`the CSR request for ${certificate.id} generation ${body.generation} was answered meanwhile`);
    return c.json({ certificateId: certificate.id, generation: body.generation, status: 'accepted' });
  });

  app.post('/deployments/:deliveryId/report', async (c) => {
    const agent = c.get('agent');
    const deliveryId = Number(c.req.param('deliveryId'));
    const body = await parseJsonBody(c, deploymentReportSchema);
    const delivery = Number.isSafeInteger(deliveryId) && deliveryId > 0 ? await findAgentDelivery(deps.db, deliveryId) : null;
    if (!delivery || delivery.agentId !== agent.id) throw problems.notFound(`no deployment ${c.req.param('deliveryId')} is assigned to this agent`);
    const report = body.ok
      ? { agentId: agent.id, deliveryId, ok: true as const, serial: body.serial! }
      : { agentId: agent.id, deliveryId, ok: false as const, error: body.error! };
    if (await recordDeploymentReport(deps.db, report)) return c.json({ deliveryId, recorded: true });
    // The same report sent twice (the agent did not see the first answer) is not a conflict.
    const repeated = report.ok ? delivery.deployedSerial === report.serial : delivery.state === 'pending' && delivery.lastError === report.error;
    if (repeated) return c.json({ deliveryId, recorded: true });
    throw problems.conflict(`deployment ${deliveryId} is not waiting for a report (state ${delivery.state}${delivery.deployedSerial ? `, serial ${delivery.deployedSerial} reported` : ''})`);
  });

  // Ends the chain here: unknown agent paths must not fall through to the API-token middleware of /v1.
  app.all('*', (c) => {
    throw problems.notFound(`no agent route for ${c.req.method} ${c.req.path}`);
  });

  return app;
}

/** The pipeline's refusal of a CSR: a policy violation is 403, anything else is the csr's fault. */
function csrProblem(error: IssuanceError): ProblemError {
  const violations = error.details.policyViolations;
  if (error.code === 'policy_violation' && violations?.length) return policyProblem(violations, {}, 'csr');
  return problems.validation(error.message, [{ field: 'csr', message: error.message }]);
}

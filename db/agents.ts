/**
 * Hosts running `certflow agent`, their tokens (`cfa_<id>_<secret>`, stored as SHA-256 only), and
 * what they are asked to do: CSRs to send (agent_csrs) and versions to deploy (pending deliveries).
 */
import { randomBytes } from 'node:crypto';
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import type { Destination } from '../core/types.js';
import type { Queryable } from './database.js';
import { newId } from './ids.js';
import { issuerChainPem } from './issuers.js';
import { agentCsrs, agents, certificates, certificateVersions, deliveries } from './schema.js';
import { issuerOf } from './versions.js';
import { hashToken } from './tokens.js';

export type AgentRow = typeof agents.$inferSelect;
export type AgentCsrRow = typeof agentCsrs.$inferSelect;
export type DeliveryRow = typeof deliveries.$inferSelect;

export async function findAgent(db: Queryable, id: string): Promise<AgentRow | null> {
  const [row] = await db
    .select()
    .from(agents)
    .where(and(eq(agents.id, id), isNull(agents.revokedAt)));
  return row ?? null;
}

/** Registers a host; null when the team already has an agent of that name. The token is returned once. */
export async function registerAgent(db: Queryable, input: { teamId: string; name: string }): Promise<{ id: string; token: string } | null> {
  const id = newId('agt');
  const token = `cfa_${id.slice(4)}_${randomBytes(30).toString('base64url')}`;
  const rows = await db
    .insert(agents)
    .values({ id, teamId: input.teamId, name: input.name, tokenHash: hashToken(token) })
    .onConflictDoNothing({ target: [agents.teamId, agents.name] })
    .returning({ id: agents.id });
  return rows.length > 0 ? { id, token } : null;
}

/** A team's agents, revoked ones included, oldest first. */
export async function listTeamAgents(db: Queryable, teamId: string): Promise<AgentRow[]> {
  return db.select().from(agents).where(eq(agents.teamId, teamId)).orderBy(asc(agents.createdAt), asc(agents.id));
}

/** Any agent by id, revoked or not. */
export async function findAgentRecord(db: Queryable, id: string): Promise<AgentRow | null> {
  const [row] = await db.select().from(agents).where(eq(agents.id, id));
  return row ?? null;
}

/** Revokes the agent (its token stops working at the next request); a second revocation keeps the first time. */
export async function revokeAgent(db: Queryable, id: string, now: Date): Promise<{ row: AgentRow; revokedNow: boolean } | null> {
  const [revoked] = await db
    .update(agents)
    .set({ revokedAt: now })
    .where(and(eq(agents.id, id), isNull(agents.revokedAt)))
    .returning();
  if (revoked) return { row: revoked, revokedNow: true };
  const row = await findAgentRecord(db, id);
  return row ? { row, revokedNow: false } : null;
}

export async function findAgentByToken(db: Queryable, token: string): Promise<AgentRow | null> {
  const [row] = await db
    .select()
    .from(agents)
    .where(and(eq(agents.tokenHash, hashToken(token)), isNull(agents.revokedAt)));
  return row ?? null;
}

/** Records that the agent polled; at most one write every 15 s per agent, however often it polls. */
export async function touchAgent(db: Queryable, id: string, now: Date): Promise<void> {
  await db
    .update(agents)
    .set({ lastSeenAt: now })
    .where(and(eq(agents.id, id), sql`(${agents.lastSeenAt} is null or ${agents.lastSeenAt} < ${now}::timestamptz - interval '15 seconds')`));
}

/** The agent's own destination on a certificate: the target named in its configuration. */
export function agentTarget(destinations: Destination[], agentId: string): string | null {
  const destination = destinations.find((candidate) => candidate.type === 'agent' && candidate.agentId === agentId);
  return destination?.type === 'agent' ? destination.target : null;
}

// --- CSR requests -------------------------------------------------------------------------------

/** Opens the request for a generation's CSR; a retry finds the request (and any CSR) already there. */
export async function openCsrRequest(db: Queryable, request: { certificateId: string; generation: number; agentId: string }): Promise<void> {
  await db.insert(agentCsrs).values(request).onConflictDoNothing({ target: [agentCsrs.certificateId, agentCsrs.generation] });
}

export async function findAgentCsr(db: Queryable, certificateId: string, generation: number): Promise<AgentCsrRow | null> {
  const [row] = await db
    .select()
    .from(agentCsrs)
    .where(and(eq(agentCsrs.certificateId, certificateId), eq(agentCsrs.generation, generation)));
  return row ?? null;
}

export interface CsrRequestAssignment {
  certificateId: string;
  generation: number;
  target: string;
  keyAlgorithm: (typeof certificates.$inferSelect)['keyAlgorithm'];
  profile: (typeof certificates.$inferSelect)['profile'];
  commonName: string | null;
  dnsNames: string[];
  ipAddresses: string[];
  uris: string[];
}

export async function listCsrRequests(db: Queryable, agentId: string): Promise<CsrRequestAssignment[]> {
  const rows = await db
    .select({ request: agentCsrs, certificate: certificates })
    .from(agentCsrs)
    .innerJoin(certificates, eq(certificates.id, agentCsrs.certificateId))
    .where(and(eq(agentCsrs.agentId, agentId), isNull(agentCsrs.csrPem)))
    .orderBy(asc(agentCsrs.requestedAt));
  return rows.flatMap(({ request, certificate }) => {
    const target = agentTarget(certificate.destinations, agentId);
    if (target === null) return [];
    const { keyAlgorithm, profile, commonName, dnsNames, ipAddresses, uris } = certificate;
    return [{ certificateId: request.certificateId, generation: request.generation, target, keyAlgorithm, profile, commonName, dnsNames, ipAddresses, uris }];
  });
}

/** Stores the CSR of an open request of this agent; false when it is no longer open (answered meanwhile). */
export async function submitCsr(
  db: Queryable,
  submission: { agentId: string; certificateId: string; generation: number; csrPem: string; now: Date },
): Promise<boolean> {
  const rows = await db
    .update(agentCsrs)
    .set({ csrPem: submission.csrPem, submittedAt: submission.now })
    .where(
      and(
        eq(agentCsrs.certificateId, submission.certificateId),
        eq(agentCsrs.generation, submission.generation),
        eq(agentCsrs.agentId, submission.agentId),
        isNull(agentCsrs.csrPem),
      ),
    )
    .returning({ certificateId: agentCsrs.certificateId });
  return rows.length > 0;
}

// --- Deployments --------------------------------------------------------------------------------

export interface DeploymentAssignment {
  deliveryId: number;
  certificateId: string;
  versionId: string;
  generation: number;
  serial: string;
  target: string;
  keySource: (typeof certificates.$inferSelect)['keySource'];
  certificatePem: string;
  chainPem: string;
}

/**
 * Rollouts waiting for this agent: pending, not yet reported. A row whose failure the workflow has
 * not yet seen (last_error set) is held back until the workflow's retry clears it.
 */
export async function listDeployments(db: Queryable, agentId: string): Promise<DeploymentAssignment[]> {
  const rows = await db
    .select({ delivery: deliveries, version: certificateVersions, keySource: certificates.keySource })
    .from(deliveries)
    .innerJoin(certificateVersions, eq(certificateVersions.id, deliveries.versionId))
    .innerJoin(certificates, eq(certificates.id, certificateVersions.certificateId))
    .where(and(eq(deliveries.agentId, agentId), eq(deliveries.state, 'pending'), isNull(deliveries.deployedSerial), isNull(deliveries.lastError)))
    .orderBy(asc(deliveries.id));
  const chains = new Map<string, string>();
  const assignments: DeploymentAssignment[] = [];
  for (const { delivery, version, keySource } of rows) {
    if (delivery.destination.type !== 'agent') continue;
    const issuerId = issuerOf(version);
    let chainPem = chains.get(issuerId);
    if (chainPem === undefined) {
      chainPem = await issuerChainPem(db, issuerId);
      chains.set(issuerId, chainPem);
    }
    assignments.push({
      deliveryId: delivery.id,
      certificateId: version.certificateId,
      versionId: version.id,
      generation: version.generation,
      serial: version.serial,
      target: delivery.destination.target,
      keySource,
      certificatePem: version.certificatePem.endsWith('\n') ? version.certificatePem : `${version.certificatePem}\n`,
      chainPem,
    });
  }
  return assignments;
}

export async function findAgentDelivery(db: Queryable, deliveryId: number): Promise<DeliveryRow | null> {
  const [row] = await db.select().from(deliveries).where(eq(deliveries.id, deliveryId));
  return row ?? null;
}

/**
 * Records the agent's report on a rollout that is still waiting for it (pending, nothing reported).
 * Returns false when the row has moved on (another request, already reported, or not this agent's).
 */
export async function recordDeploymentReport(
  db: Queryable,
  report: { agentId: string; deliveryId: number; ok: true; serial: string } | { agentId: string; deliveryId: number; ok: false; error: string },
): Promise<boolean> {
  const change = report.ok ? { deployedSerial: report.serial } : { lastError: report.error };
  const rows = await db
    .update(deliveries)
    .set({ ...change, updatedAt: sql`now()` })
    .where(
      and(
        eq(deliveries.id, report.deliveryId),
        eq(deliveries.agentId, report.agentId),
        eq(deliveries.state, 'pending'),
        isNull(deliveries.deployedSerial),
        isNull(deliveries.lastError),
      ),
    )
    .returning({ id: deliveries.id });
  return rows.length > 0;
}

/** Hands a rollout back to the agent after the workflow has seen its failure: clears the report. */
export async function reopenAgentDelivery(db: Queryable, key: { versionId: string; destinationIndex: number; rolloutKey: string }): Promise<void> {
  await db
    .update(deliveries)
    .set({ state: 'pending', deployedSerial: null, lastError: null, updatedAt: sql`now()` })
    .where(and(eq(deliveries.versionId, key.versionId), eq(deliveries.destinationIndex, key.destinationIndex), eq(deliveries.rolloutKey, key.rolloutKey)));
}

/**
 * What a new certificate's lifecycle will do, decided from the validated request before anything
 * is written: the stored form of its destinations (secrets sealed), where its key is made, and
 * whether its first issuance waits for an approval (core/approval.ts). Refusals are ProblemErrors.
 */
import { approvalReasons, type ApprovalReason, type ApprovalRules } from '../core/approval.js';
import type { ApprovalPlan } from '../core/lifecycle.js';
import type { Destination, KeySource, KubernetesDestination } from '../core/types.js';
import { sealDestinationSecret } from '../ca/destination-secrets.js';
import type { SealingPublicKey } from '../ca/sealed-box.js';
import { findAgent } from '../db/agents.js';
import { issuedNamesOf } from '../db/certificates.js';
import { findClusterByName, namespaceGranted } from '../db/kubernetes-clusters.js';
import type { Database, Queryable } from '../db/database.js';
import type { TeamRow } from '../db/teams.js';
import type { CanonicalCertificateRequest } from './certificate-request.js';
import { ProblemError, problems } from './problem.js';
import type { CreateCertificateBody, DestinationBody } from './schemas.js';

/** Moved to core/ (the inventory sweep restarts lifecycles with it too). */
export { destinationPlans } from '../core/destination-plans.js';

export async function storedDestinations(
  db: Database,
  sealingPublicKey: SealingPublicKey | null,
  certificateId: string,
  team: TeamRow,
  bodies: DestinationBody[],
): Promise<Destination[]> {
  const stored: Destination[] = [];
  for (const [index, body] of bodies.entries()) {
    if (body.type === 'webhook') {
      const { secret, ...rest } = body;
      if (!sealingPublicKey) throw problems.unavailable('webhook secrets cannot be sealed: this API has no sealing public key configured (CERTFLOW_SEALING_PUBLIC_KEY)');
      stored.push({ ...rest, sealedSecret: sealDestinationSecret(sealingPublicKey, secret, certificateId, index) });
    } else if (body.type === 'agent') {
      const agent = await findAgent(db, body.agentId);
      if (!agent || agent.teamId !== team.id) {
        throw problems.validation(`agent "${body.agentId}" does not exist in team "${team.name}"`, [
          { field: `destinations.${index}.agentId`, message: 'register the host with POST /v1/agents first' },
        ]);
      }
      stored.push(body);
    } else if (body.type === 'kubernetes') {
      await checkNamespaceGranted(db, team, body, index);
      stored.push(body);
    } else {
      stored.push(body);
    }
  }
  return stored;
}

/** A team writes Secrets only to namespaces granted to it on a registered cluster (PATCH /v1/clusters/{id}). */
async function checkNamespaceGranted(db: Queryable, team: TeamRow, destination: KubernetesDestination, index: number): Promise<void> {
  const cluster = await findClusterByName(db, destination.cluster);
  if (!cluster) {
    throw problems.validation(`no Kubernetes cluster named "${destination.cluster}" is registered`, [
      { field: `destinations/${index}/cluster`, message: 'a platform admin registers clusters with POST /v1/clusters' },
    ]);
  }
  if (!(await namespaceGranted(db, cluster.id, team.id, destination.namespace))) {
    const message = `namespace "${destination.namespace}" of cluster "${destination.cluster}" is not granted to team "${team.name}"`;
    throw new ProblemError(403, 'namespace-not-granted', 'The namespace is not granted to this team', `${message}; GET /v1/clusters lists the namespaces this team may use, a platform admin grants others`, {
      errors: [{ field: `destinations/${index}/namespace`, message }],
    });
  }
}

/** A Kubernetes Secret holds the private key: the key must be made by Certflow (no CSR, no agent). */
export function refuseKubernetesWithoutServerKey(keySource: KeySource, destinations: Destination[]): void {
  if (keySource === 'server') return;
  const index = destinations.findIndex((destination) => destination.type === 'kubernetes');
  if (index < 0) return;
  throw problems.validation('a kubernetes destination receives the private key in its Secret (tls.key): the key must be made by Certflow, so send no csr', [
    { field: `destinations/${index}`, message: 'needs a key made by Certflow (no csr)' },
  ]);
}

/**
 * The key is made where it is used when it can be: with no CSR and a single agent destination, the
 * agent generates it and sends a CSR, so the private key never leaves that host.
 */
export function keySourceFor(body: CreateCertificateBody, destinations: Destination[]): KeySource {
  if (body.csr) return 'csr';
  if (destinations.length === 1 && destinations[0]!.type === 'agent') return 'agent';
  return 'server';
}

/** Server-made keys are never sent to hosts: an agent destination needs the key made on that agent or a CSR. */
export function refuseServerKeysForAgents(keySource: KeySource, destinations: Destination[]): void {
  if (keySource !== 'server') return;
  const index = destinations.findIndex((destination) => destination.type === 'agent');
  if (index < 0) return;
  throw problems.validation(
    'an agent destination never receives a server-generated key: make the agent the only destination (it then makes the key itself) or send a csr',
    [{ field: `destinations.${index}`, message: 'needs the key made on the agent (as the only destination) or a csr' }],
  );
}

/**
 * Whether the first issuance waits for a human. "New name": no certificate of the team was ever
 * *issued* for it (a pending request does not count), so a second request for a name whose first
 * request still awaits approval waits too. Run it under lockTeamDecisions, in the transaction that
 * stores the certificate, so that racing requests decide one after the other.
 */
export async function approvalPlan(
  db: Queryable,
  input: { approvalId: string; team: TeamRow; requestedBy: string; requestedByPrincipal: string; request: CanonicalCertificateRequest; body: CreateCertificateBody },
): Promise<ApprovalPlan | null> {
  const rules: ApprovalRules | undefined = input.team.policy.approval;
  if (!rules) return null;
  const { dnsNames, ipAddresses, uris } = input.request;
  const known = rules.newNames ? await issuedNamesOf(db, input.team.id, { dnsNames, ipAddresses, uris }) : new Set<string>();
  const reasons: ApprovalReason[] = approvalReasons(
    {
      dnsNames: input.request.dnsNames,
      ipAddresses: input.request.ipAddresses,
      uris: input.request.uris,
      profile: input.body.profile,
      keyAlgorithm: input.request.keyAlgorithm,
      validitySeconds: input.body.validity,
    },
    rules,
    { newNames: [...dnsNames, ...ipAddresses, ...uris].filter((name) => !known.has(name)) },
  );
  if (reasons.length === 0) return null;
  return {
    approvalId: input.approvalId,
    teamId: input.team.id,
    requestedBy: input.requestedBy,
    requestedByPrincipal: input.requestedByPrincipal,
    reasons,
    deadlineSeconds: rules.deadlineSeconds,
    escalateAfterSeconds: rules.escalateAfterSeconds,
  };
}

/**
 * An ACME client renewing a certificate Certflow knows: the order names the old certificate with
 * RFC 9773 `replaces`, or (clients without ARI) asks again, from the same account, for exactly the
 * names of one of its live certificates. Its finalize then becomes that certificate's next
 * generation: the lifecycle gets `clientRenewed` and issues it from the order's CSR, and bulk
 * operations waiting for the certificate count it as reissued.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import { and, desc, eq, inArray, isNotNull, ne } from 'drizzle-orm';
import { AriCertIdError, parseAriCertId } from '../../core/ari.js';
import { sameIdentifiers, type AcmeIdentifier } from '../../core/acme-order.js';
import { renewalRateRefusal, RENEWAL_QUOTA_WINDOW_SECONDS } from '../../core/fair-use.js';
import { x509 } from '../../ca/x509.js';
import type { AcmeAccountRow } from '../../db/acme-accounts.js';
import { markOrderInvalid, markOrderProcessing, orderAuthorizations, type AcmeOrderRow } from '../../db/acme-orders.js';
import { appendAuditEventInTransaction } from '../../db/audit.js';
import { findCertificate, lockTeamDecisions, type CertificateRow, type VersionRow } from '../../db/certificates.js';
import { RENEWAL_REQUESTED_ACTION, renewalRequestTimes } from '../../db/renewal-requests.js';
import { acmeOrders, certificates, certificateVersions } from '../../db/schema.js';
import type { TeamRow } from '../../db/teams.js';
import { findVersion } from '../../db/versions.js';
import { clientRenewedSignal } from '../../contracts/acme-messages.js';
import type { AcmeDeps } from './context.js';
import { AcmeProblem, acmeErrorUrn } from './problem.js';
import { currentOrderStatus } from './views.js';

/** States in which a certificate's lifecycle waits for its client's renewal. */
const AWAITING_CLIENT: CertificateRow['state'][] = ['active', 'renewal_overdue'];

/** The version a certID names, and its certificate; `malformed` (404) when this CA issued none such. */
export async function versionOfCertId(deps: AcmeDeps, certId: string): Promise<{ certificate: CertificateRow; version: VersionRow }> {
  let parsed;
  try {
    parsed = parseAriCertId(certId);
  } catch (error) {
    if (error instanceof AriCertIdError) throw new AcmeProblem('malformed', `not an RFC 9773 certID: ${error.message}`);
    throw error;
  }
  const [version] = await deps.db.select().from(certificateVersions).where(and(eq(certificateVersions.serial, parsed.serialHex), isNotNull(certificateVersions.issuerId)));
  const certificate = version ? await findCertificate(deps.db, version.certificateId) : null;
  // ACME certificates only: the others are not renewed by a client, and their renewal reasons are not for ACME clients to read.
  if (!version || !certificate || certificate.source !== 'acme' || authorityKeyId(version) !== parsed.keyIdentifierHex) {
    throw new AcmeProblem('malformed', 'this CA issued no certificate with that certID', { status: 404 });
  }
  return { certificate, version };
}

function authorityKeyId(version: VersionRow): string | null {
  const extension = new x509.X509Certificate(version.certificatePem).getExtension(x509.AuthorityKeyIdentifierExtension);
  return extension?.keyId?.toLowerCase() ?? null;
}

/**
 * newOrder's `replaces`: the version it names, which must be one of the account's team's ACME
 * certificates, its current version, and not already replaced by another order.
 */
export async function replacedVersionId(deps: AcmeDeps, certId: unknown, account: AcmeAccountRow): Promise<string> {
  if (typeof certId !== 'string' || certId.length > 200) throw new AcmeProblem('malformed', '"replaces" must be an RFC 9773 certID');
  const { certificate, version } = await versionOfCertId(deps, certId);
  if (certificate.source !== 'acme' || certificate.teamId !== account.teamId) throw new AcmeProblem('unauthorized', 'this account may not replace that certificate');
  if (certificate.currentVersionId !== version.id) throw new AcmeProblem('alreadyReplaced', `certificate ${version.serial} has already been replaced`);
  const [replacing] = await ordersStillReplacing(deps, version.id);
  if (replacing) throw new AcmeProblem('alreadyReplaced', `certificate ${version.serial} is already being replaced by another order`);
  return version.id;
}

/**
 * The orders that still replace a version. An order that can no longer be finalized (expired, an
 * authorization failed or was deactivated) replaces nothing: it is stored invalid here, so that it
 * blocks neither this check nor the unique index behind it.
 */
async function ordersStillReplacing(deps: AcmeDeps, versionId: string): Promise<AcmeOrderRow[]> {
  const orders = await deps.db
    .select()
    .from(acmeOrders)
    .where(and(eq(acmeOrders.replacesVersionId, versionId), ne(acmeOrders.status, 'invalid')));
  const live: AcmeOrderRow[] = [];
  for (const order of orders) {
    const { status } = currentOrderStatus(order, await orderAuthorizations(deps.db, order.id), deps.now());
    if (status === 'invalid') await markOrderInvalid(deps.db, order.id, { type: acmeErrorUrn('malformed'), detail: 'the order expired or one of its authorizations failed', status: 400 }, deps.now());
    else live.push(order);
  }
  return live;
}

/**
 * The certificate an order renews, when its lifecycle waits for the client: the one `replaces`
 * names, or else the account's newest live certificate for exactly the order's names.
 */
export async function renewedCertificate(deps: AcmeDeps, order: AcmeOrderRow): Promise<CertificateRow | null> {
  if (order.replacesVersionId) {
    const version = await findVersion(deps.db, order.replacesVersionId);
    const certificate = version ? await findCertificate(deps.db, version.certificateId) : null;
    if (!certificate || certificate.currentVersionId !== version!.id) return null;
    return AWAITING_CLIENT.includes(certificate.state) && sameIdentifiers(namesOf(certificate), order.identifiers) ? certificate : null;
  }
  const candidates = await deps.db
    .select()
    .from(certificates)
    .where(and(eq(certificates.acmeAccountId, order.accountId), eq(certificates.source, 'acme'), inArray(certificates.state, AWAITING_CLIENT)))
    .orderBy(desc(certificates.createdAt))
    .limit(50);
  return candidates.find((candidate) => candidate.currentVersionId !== null && sameIdentifiers(namesOf(candidate), order.identifiers)) ?? null;
}

function namesOf(certificate: CertificateRow): AcmeIdentifier[] {
  return [
    ...certificate.dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...certificate.ipAddresses.map((value) => ({ type: 'ip' as const, value })),
  ];
}

/**
 * Makes the order the certificate's next generation: the team's renewal quota, the audit event it
 * counts, and the order marked processing in one transaction under the team's lock; then the
 * signal, after the commit. A lost race (another order took the generation) is `alreadyReplaced`.
 * Returns the generation the order asks for.
 */
export async function renewThroughClient(
  deps: AcmeDeps,
  input: { order: AcmeOrderRow; certificate: CertificateRow; team: TeamRow; csrPem: string; actor: string; principalId: string },
): Promise<number> {
  const { order, certificate, team } = input;
  const current = (await findVersion(deps.db, certificate.currentVersionId!))!;
  const generation = current.generation + 1;
  const now = deps.now();
  const quotas = team.policy.quotas;
  try {
    await deps.db.transaction(async (tx) => {
      await lockTeamDecisions(tx, team.id, 'renewal-requests');
      if (quotas?.maxRenewalsPerHour !== undefined) {
        const recent = await renewalRequestTimes(tx, team.id, new Date(now.getTime() - RENEWAL_QUOTA_WINDOW_SECONDS * 1000));
        const refusal = renewalRateRefusal(quotas, recent, now);
        if (refusal) throw new AcmeProblem('rateLimited', refusal.message, refusal.retryAfterSeconds !== undefined ? { retryAfterSeconds: refusal.retryAfterSeconds } : {});
      }
      if (!(await markOrderProcessing(tx, order.id, { certificateId: certificate.id, generation, csrPem: input.csrPem }, now))) {
        throw new AcmeProblem('orderNotReady', 'the order was finalized by another request');
      }
      await appendAuditEventInTransaction(tx, deps.db, {
        at: now,
        actor: input.actor,
        principalId: input.principalId,
        action: RENEWAL_REQUESTED_ACTION,
        teamId: team.id,
        certificateId: certificate.id,
        details: { reason: 'renewed by its ACME client', source: 'acme', orderId: order.id, generation, replacesVersionId: order.replacesVersionId ?? current.id },
      });
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new AcmeProblem('alreadyReplaced', `certificate ${current.serial} is already being replaced by another order`);
    throw error;
  }
  try {
    await deps.temporal.workflow.getHandle(certificate.workflowId).signal(clientRenewedSignal, { generation });
  } catch (error) {
    // Not handed over: the order goes back to ready, so that finalizing again retries.
    await deps.db
      .update(acmeOrders)
      .set({ status: 'pending', certificateId: null, generation: null, csrPem: null, updatedAt: deps.now() })
      .where(and(eq(acmeOrders.id, order.id), eq(acmeOrders.status, 'processing')));
    // Its lifecycle ended meanwhile (a revocation wins): there is nothing left to renew.
    if (error instanceof WorkflowNotFoundError) throw new AcmeProblem('orderNotReady', `certificate ${certificate.id} has ended (revoked); order a new one without "replaces"`);
    throw error;
  }
  return generation;
}

export function isUniqueViolation(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current instanceof Object && depth < 4; current = (current as { cause?: unknown }).cause, depth++) {
    if ((current as { code?: unknown }).code === '23505') return true;
  }
  return false;
}

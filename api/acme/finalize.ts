/**
 * finalize (RFC 8555 §7.4): the order's CSR becomes a Certflow certificate through the same path as
 * `POST /v1/certificates` (the issuance pipeline's checks, the team's quota and approvals, the
 * audit log, a lifecycle workflow), with `source: "acme"` and the account as its owner. The order
 * answers `processing` until the workflow has signed it. Finalize itself waits a little for the
 * signature (the worker usually needs tens of milliseconds), so that most clients get the `valid`
 * order with its certificate URL at once instead of polling: lego, for one, polls every 500 ms.
 */
import type { Context } from 'hono';
import { base64url } from 'jose';
import { findEabKey } from '../../db/acme-accounts.js';
import { markOrderProcessing, orderAuthorizations, orderVersion, type AcmeOrderRow } from '../../db/acme-orders.js';
import type { VersionRow } from '../../db/certificates.js';
import type { TeamRow } from '../../db/teams.js';
import { poolOf } from '../../db/database.js';
import { acmeOrders } from '../../db/schema.js';
import { eq } from 'drizzle-orm';
import { databaseKeyBlocklist } from '../../db/blocked-keys.js';
import { createCertificate, type AcmeCreation } from '../certificate-creation.js';
import { canonicalizeCertificateRequest } from '../certificate-request.js';
import type { Principal } from '../deps.js';
import { ProblemError } from '../problem.js';
import type { CreateCertificateBody } from '../schemas.js';
import { boundAccount, objectPayload, teamOfRequest, verifyAcmeRequest, type AcmeDeps } from './context.js';
import { acmeValiditySeconds, orderRetryAfter, ownOrder, renderOrder } from './orders.js';
import { AcmeProblem } from './problem.js';
import { issuanceNotices } from './issuance-notices.js';
import { renewedCertificate, renewThroughClient } from './replacement.js';
import { currentOrderStatus } from './views.js';

const MAX_CSR_BYTES = 16 * 1024;
/** The longest finalize waits for the worker's signature before it answers `processing`. */
const ISSUANCE_WAIT_MS = 2_000;
/** Pauses between the looks at the order's version while finalize waits: short first, then doubling. */
const ISSUANCE_POLL_FIRST_MS = 25;
const ISSUANCE_POLL_MAX_MS = 200;

export async function finalizeOrder(c: Context, deps: AcmeDeps): Promise<Response> {
  const request = await verifyAcmeRequest(c, deps, 'kid');
  const account = boundAccount(request);
  const order = await ownOrder(deps, request, c.req.param('id')!);
  const authorizations = await orderAuthorizations(deps.db, order.id);
  const { status } = currentOrderStatus(order, authorizations, deps.now());
  if (status !== 'ready') throw new AcmeProblem('orderNotReady', `the order is ${status}, not ready: ${status === 'pending' ? 'complete its authorizations first' : 'it cannot be finalized again'}`);
  const csrPem = csrFromPayload(objectPayload(request));
  const team = await teamOfRequest(deps, request, order.teamId);
  // The account acts for the principal that created its binding key: approvals keep that person from deciding.
  const accountable = (account.eabKeyId ? await eabKeyCreator(deps, account.eabKeyId) : null) ?? account.id;
  const principal: Principal = { tokenId: account.id, principalId: accountable, accountableId: accountable, teamId: team.id, role: 'requester' };
  const body = certificateBody(deps, team, order, csrPem);
  let issuing: { certificateId: string; generation: number; awaitingApproval: boolean };
  try {
    const renewed = await renewedCertificate(deps, order);
    if (renewed) {
      // The issuance pipeline's checks of the CSR (names, key, policy), as a new certificate gets them.
      await canonicalizeCertificateRequest(body, team, databaseKeyBlocklist(deps.db));
      const generation = await renewThroughClient(deps, { order, certificate: renewed, team, csrPem, actor: account.id, principalId: accountable });
      issuing = { certificateId: renewed.id, generation, awaitingApproval: false };
    } else {
      const answer = await createCertificate(deps, { principal, team, body, acme: orderCreation(deps, order, account.id, csrPem) });
      issuing = { certificateId: answer.certificateId, generation: 1, awaitingApproval: (JSON.parse(answer.json) as { state: string }).state === 'awaiting_approval' };
    }
  } catch (error) {
    throw asAcmeProblem(error);
  }
  const finalized = { ...order, status: 'processing' as const, certificateId: issuing.certificateId, generation: issuing.generation, csrPem };
  const version = issuing.awaitingApproval ? null : await waitForIssuance(deps, finalized);
  const view = await renderOrder(deps, finalized, request, { authorizations, version });
  return c.json(view, 200, { Location: request.urls.order(order.id), ...(view.status === 'processing' ? orderRetryAfter(finalized) : {}) });
}

/**
 * Waits up to ISSUANCE_WAIT_MS for the order's version to be signed (the order is already answered
 * from Postgres, so this only saves the client a poll). A certificate waiting for an approver is not
 * waited for; one that fails is shown by renderOrder like on any poll. The worker's announcement
 * ends the wait (api/acme/issuance-notices.ts); without the announcements, it reads now and then.
 */
async function waitForIssuance(deps: AcmeDeps, order: { certificateId: string; generation: number }): Promise<Pick<VersionRow, 'id'> | null> {
  const notices = issuanceNotices(poolOf(deps.db));
  if (await notices.listening()) {
    const announced = notices.expect(order.certificateId, order.generation, ISSUANCE_WAIT_MS);
    const recorded = await orderVersion(deps.db, order);
    if (recorded) {
      announced.cancel();
      return recorded;
    }
    const versionId = await announced.version;
    return versionId ? { id: versionId } : orderVersion(deps.db, order);
  }
  return pollForIssuance(deps, order);
}

async function pollForIssuance(deps: AcmeDeps, order: { certificateId: string; generation: number }): Promise<VersionRow | null> {
  const deadline = Date.now() + ISSUANCE_WAIT_MS;
  for (let pause = ISSUANCE_POLL_FIRST_MS; ; pause = Math.min(2 * pause, ISSUANCE_POLL_MAX_MS)) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(pause, Math.max(0, deadline - Date.now()))));
    const version = await orderVersion(deps.db, order);
    if (version || Date.now() >= deadline) return version;
  }
}

/** Who created each external account binding key (it never changes), by key id: read once per replica. */
const eabKeyCreators = new Map<string, string | null>();
const EAB_KEY_CREATORS_MAX = 10_000;

async function eabKeyCreator(deps: AcmeDeps, eabKeyId: string): Promise<string | null> {
  if (eabKeyCreators.has(eabKeyId)) return eabKeyCreators.get(eabKeyId)!;
  const creator = (await findEabKey(deps.db, eabKeyId))?.createdByPrincipal ?? null;
  if (eabKeyCreators.size >= EAB_KEY_CREATORS_MAX) eabKeyCreators.clear();
  eabKeyCreators.set(eabKeyId, creator);
  return creator;
}

/** The order as a `POST /v1/certificates` body: its names, the CSR, no destinations (the client installs it). */
function certificateBody(deps: AcmeDeps, team: TeamRow, order: AcmeOrderRow, csrPem: string): CreateCertificateBody {
  return {
    team: team.id,
    dnsNames: order.identifiers.filter((identifier) => identifier.type === 'dns').map((identifier) => identifier.value),
    ipAddresses: order.identifiers.filter((identifier) => identifier.type === 'ip').map((identifier) => identifier.value),
    uris: [],
    profile: 'tls-server',
    validity: acmeValiditySeconds(deps, team),
    csr: csrPem,
    destinations: [],
  };
}

function orderCreation(deps: AcmeDeps, order: AcmeOrderRow, accountId: string, csrPem: string): AcmeCreation {
  return {
    accountId,
    stored: async (tx, certificateId) => {
      if (!(await markOrderProcessing(tx, order.id, { certificateId, generation: 1, csrPem }, deps.now()))) {
        throw new AcmeProblem('orderNotReady', 'the order was finalized by another request');
      }
    },
    forgotten: async (tx) => {
      await tx.update(acmeOrders).set({ status: 'pending', certificateId: null, generation: null, csrPem: null, updatedAt: deps.now() }).where(eq(acmeOrders.id, order.id));
    },
  };
}

function csrFromPayload(payload: Record<string, unknown>): string {
  const csr = payload['csr'];
  if (typeof csr !== 'string' || csr.length === 0 || !/^[A-Za-z0-9_-]+$/.test(csr)) throw new AcmeProblem('malformed', '"csr" must be the base64url DER of a PKCS#10 request');
  let der: Buffer;
  try {
    der = Buffer.from(base64url.decode(csr));
  } catch {
    throw new AcmeProblem('malformed', '"csr" is not base64url');
  }
  if (der.length > MAX_CSR_BYTES) throw new AcmeProblem('badCSR', `the CSR must not exceed ${MAX_CSR_BYTES} bytes`);
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE REQUEST-----\n${lines.join('\n')}\n-----END CERTIFICATE REQUEST-----\n`;
}

/** The REST path's refusals in ACME's words: what is wrong with the request is the CSR's fault. */
function asAcmeProblem(error: unknown): unknown {
  if (!(error instanceof ProblemError)) return error;
  const detail = error.detail;
  switch (error.status) {
    case 400:
      return new AcmeProblem('badCSR', detail);
    case 403:
      return new AcmeProblem(error.extensions['code'] === 'key_algorithm_not_allowed' ? 'badCSR' : 'rejectedIdentifier', detail);
    case 409:
      return new AcmeProblem('orderNotReady', detail);
    case 429:
      return new AcmeProblem('rateLimited', detail);
    case 503:
      return new AcmeProblem('serverInternal', detail, { status: 503, retryAfterSeconds: 5 });
    default:
      return new AcmeProblem('serverInternal', detail, { status: error.status });
  }
}

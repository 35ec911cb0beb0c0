/** `/v1/certificates`: request, inspect, list, renew and revoke managed certificates. */
import { refuseTracked } from '../tracked-certificate.js';
import { Hono } from 'hono';
import type { CertificateRow } from '../../db/certificates.js';
import { findCertificate, listCertificates } from '../../db/certificates.js';
import { issuerChainPem } from '../../db/issuers.js';
import { findTeam, findTeamByName, type TeamRow } from '../../db/teams.js';
import { findVersion } from '../../db/versions.js';
import { canAccessTeam, isPlatformAdmin, requireRole } from '../auth.js';
import { createCertificate, createIdempotently, expiredKeyPurger } from '../certificate-creation.js';
import { submitKubernetesRequest } from '../kubernetes-renewal.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import type { ApiDeps, AppEnv, Principal } from '../deps.js';
import { IDEMPOTENCY_KEY_HEADER, parseIdempotencyKey, requestHash } from '../idempotency.js';
import { queryStatus } from '../lifecycle-client.js';
import { requestRenewal } from '../renewal-request.js';
import { requestRevocation } from '../revocation.js';
import { ProblemError, problems } from '../problem.js';
import { defaultValiditySeconds } from '../../core/policy.js';
import { createCertificateSchema, listCertificatesQuery, renewCertificateSchema, revokeCertificateSchema } from '../schemas.js';
import { listStuckCertificates } from '../stuck.js';
import { parseJsonBody, parseOptionalJsonBody, parseQuery } from '../validation.js';
import { certificateView } from '../views.js';

export function certificateRoutes(deps: ApiDeps) {
  const app = new Hono<AppEnv>();
  // Read when answering, not at start-up: the route table is built before any client is touched.
  const ui = () => ({ baseUrl: deps.temporalUiUrl, namespace: deps.temporal.options.namespace });

  /** Loads a certificate the caller may see; another team's certificate is reported as absent. */
  async function visibleCertificate(principal: Principal, id: string): Promise<CertificateRow> {
    const certificate = await findCertificate(deps.db, id);
    if (!certificate || !canAccessTeam(principal, certificate.teamId)) throw problems.notFound(`no certificate "${id}" is visible to this token`);
    return certificate;
  }

  async function requestedTeam(principal: Principal, team: string): Promise<TeamRow> {
    const row = (await findTeam(deps.db, team)) ?? (await findTeamByName(deps.db, team));
    if (!row || !canAccessTeam(principal, row.id)) {
      throw problems.forbidden(`this token cannot request certificates for team "${team}"; use a token of that team`);
    }
    return row;
  }

  const purgeExpiredKeys = expiredKeyPurger(deps);

  app.post('/', requireRole('requester'), async (c) => {
    const principal = c.get('principal');
    const key = parseIdempotencyKey(c.req.header(IDEMPOTENCY_KEY_HEADER));
    const input = await parseJsonBody(c, createCertificateSchema);
    const team = await requestedTeam(principal, input.team);
    const request = { principal, team, body: { ...input, validity: input.validity ?? defaultValiditySeconds(team.policy) } };
    let answer;
    if (request.body.kubernetes) {
      if (key) await purgeExpiredKeys();
      const body = request.body;
      answer = await submitKubernetesRequest(deps, { ...request, body: { ...body, kubernetes: body.kubernetes! } }, key, key ? requestHash(JSON.parse(await c.req.text())) : '');
    } else if (key) {
      await purgeExpiredKeys();
      try {
        answer = await createIdempotently(deps, request, key, requestHash(JSON.parse(await c.req.text())));
      } catch (error) {
        if (error instanceof ProblemError && error.slug === 'idempotency-key-in-progress') c.header('Retry-After', '1');
        throw error;
      }
    } else {
      answer = await createCertificate(deps, request);
    }
    return c.body(answer.json, answer.status as 202, { 'Content-Type': 'application/json', Location: `/v1/certificates/${answer.certificateId}` });
  });

  app.get('/', async (c) => {
    const principal = c.get('principal');
    const query = parseQuery(c, listCertificatesQuery);
    let teamId = principal.teamId ?? undefined;
    let team: TeamRow | null = null;
    if (query.team) {
      team = (await findTeam(deps.db, query.team)) ?? (await findTeamByName(deps.db, query.team));
      if (!team || !canAccessTeam(principal, team.id)) throw problems.forbidden(`this token cannot list certificates of team "${query.team}"`);
      teamId = team.id;
    } else if (!isPlatformAdmin(principal) && !teamId) {
      throw problems.forbidden('this token belongs to no team');
    }
    const expiringBefore = query.expiringBefore ? new Date(query.expiringBefore) : undefined;

    if (query.stuck) {
      if (query.cursor) throw problems.validation('cursor: the stuck listing is a single page', [{ field: 'cursor', message: 'not accepted with stuck=true' }]);
      // Visibility has no search attribute for it, and filtering the page afterwards would cut it short.
      if (query.source) throw problems.validation('source: the stuck listing cannot be narrowed by source', [{ field: 'source', message: 'not accepted with stuck=true' }]);
      // The Team search attribute holds the team's name.
      if (teamId && !team) team = await findTeam(deps.db, teamId);
      if (teamId && !team) throw problems.forbidden('the team of this token no longer exists');
      const stuck = await listStuckCertificates(deps, {
        teams: team ? [{ id: team.id, name: team.name }] : null,
        minAttempts: query.minAttempts,
        stuckAfterSeconds: query.stuckAfter,
        state: query.state,
        expiringBefore,
        now: deps.now(),
        limit: query.limit,
      });
      return c.json({ items: stuck.map(({ certificate, version, live }) => certificateView(certificate, version, live, ui())), nextCursor: null });
    }

    const rows = await listCertificates(deps.db, {
      teamId,
      state: query.state,
      source: query.source,
      expiringBefore,
      after: query.cursor ? decodeCursor('certificates', query.cursor) : undefined,
      limit: query.limit + 1,
    });
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    return c.json({
      items: page.map(({ certificate, version }) => certificateView(certificate, version, null, ui())),
      nextCursor: rows.length > query.limit && last ? encodeCursor('certificates', { at: last.createdAtKey, id: last.certificate.id }) : null,
    });
  });

  app.get('/:id', async (c) => {
    const certificate = await visibleCertificate(c.get('principal'), c.req.param('id'));
    // The query first: it waits for a workflow task under way (a renewal's local activities), and
    // the version must be read after it so that state and version describe the same moment.
    const live = await queryStatus(deps.temporal, certificate.workflowId);
    const versionId = live?.currentVersion?.versionId ?? certificate.currentVersionId;
    const version = versionId ? await findVersion(deps.db, versionId) : null;
    return c.json(certificateView(certificate, version, live, ui()));
  });

  app.get('/:id/certificate.pem', async (c) => {
    const certificate = await visibleCertificate(c.get('principal'), c.req.param('id'));
    const version = certificate.currentVersionId ? await findVersion(deps.db, certificate.currentVersionId) : null;
    if (!version) throw problems.notFound(`certificate "${certificate.id}" has not been issued yet; its state is ${certificate.state}`);
    // An imported or discovered certificate has no Certflow chain: its own certificate only.
    const pem = `${version.certificatePem.trim()}\n${version.issuerId ? await issuerChainPem(deps.db, version.issuerId) : ''}`;
    return c.body(pem, 200, { 'Content-Type': 'application/pem-certificate-chain' });
  });

  app.post('/:id/renew', requireRole('requester', 'responder'), async (c) => {
    const certificate = await visibleCertificate(c.get('principal'), c.req.param('id'));
    refuseTracked(certificate, 'renew');
    const body = await parseOptionalJsonBody(c, renewCertificateSchema);
    if (certificate.state === 'revoked') throw problems.conflict(`certificate "${certificate.id}" is revoked; request a new certificate instead`);
    try {
      await requestRenewal(deps, c.get('principal'), certificate, body.reason);
    } catch (error) {
      if (error instanceof ProblemError && error.status === 429) c.header('Retry-After', String(error.extensions['retryAfterSeconds']));
      throw error;
    }
    return c.json({ id: certificate.id, workflowId: certificate.workflowId, renewal: 'requested' as const }, 202);
  });

  app.post('/:id/revoke', requireRole('requester', 'responder'), async (c) => {
    const certificate = await visibleCertificate(c.get('principal'), c.req.param('id'));
    refuseTracked(certificate, 'revoke');
    const body = await parseOptionalJsonBody(c, revokeCertificateSchema);
    if (certificate.state === 'revoked') throw problems.conflict(`certificate "${certificate.id}" is already revoked`);
    return c.json(await requestRevocation(deps, certificate, body.reason, c.get('principal')), 202);
  });

  return app;
}

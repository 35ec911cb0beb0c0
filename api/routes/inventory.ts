/**
 * The inventory beyond Certflow (issue 14 §6): `POST /v1/teams/:id/imports` (PEM files or bundles),
 * `POST /v1/teams/:id/scans` and `GET …/scans/:scanId` (TLS endpoints, by the inventoryScan workflow),
 * `GET /v1/certificates/:id/inventory` (provenance and sightings) and `POST /v1/certificates/:id/adopt`.
 * Imports and scans: team admins for their team, platform admins for any.
 */
import { Hono } from 'hono';
import { WorkflowNotFoundError } from '@temporalio/client';
import { parsePemBundle } from '../../ca/pem-bundle.js';
import { inventoryPolicyFindings } from '../../core/inventory-policy.js';
import { defaultValiditySeconds } from '../../core/policy.js';
import { expandScanTarget, MAX_SCAN_ENDPOINTS, type ScanEndpoint } from '../../core/scan-targets.js';
import { TRACKED_SOURCES } from '../../core/types.js';
import { checkDestinationHost } from '../../core/destination-hosts.js';
import { appendAuditEvent } from '../../db/audit.js';
import { findCertificate } from '../../db/certificates.js';
import { newId } from '../../db/ids.js';
import { adoptedByCertificate, claimAdoption, findInventoryItem, listSightings, markAdopted, recordExternalCertificate, recordExternalCertificates, releaseAdoption, type ExternalRecord } from '../../db/inventory.js';
import { findTeam, type TeamRow } from '../../db/teams.js';
import { findVersion } from '../../db/versions.js';
import type { InventoryScanInput } from '../../workflows/inventory-scan.js';
import { auditActor } from '../audit-actor.js';
import { canAccessTeam, requireRole } from '../auth.js';
import { createCertificate } from '../certificate-creation.js';
import type { ApiDeps, AppEnv, Principal } from '../deps.js';
import { adoptSchema, importSchema, MAX_IMPORT_CERTIFICATES, scanSchema } from '../inventory-schemas.js';
import { problems, type FieldProblem } from '../problem.js';
import { parseJsonBody, parseOptionalJsonBody } from '../validation.js';

export const scanWorkflowId = (scanId: string) => `scan/${scanId}`;

type ImportItem =
  | { file: string; index: number; status: 'imported' | 'duplicate'; certificateId: string; notAfter: string; policyFindings: Array<{ name: string; reason: string }> }
  | { file: string; index: number; status: 'error'; error: string };

/** Mounted under `/v1/teams`. */
export function inventoryTeamRoutes(deps: ApiDeps) {
  const app = new Hono<AppEnv>();

  async function visibleTeam(caller: Principal, id: string): Promise<TeamRow> {
    const team = await findTeam(deps.db, id);
    if (!team || !canAccessTeam(caller, team.id)) throw problems.notFound(`no team "${id}" is visible to this token`);
    return team;
  }

  app.post('/:id/imports', requireRole('admin'), async (c) => {
    const caller = c.get('principal');
    const team = await visibleTeam(caller, c.req.param('id'));
    const body = await parseJsonBody(c, importSchema);
    const parsed = body.files.flatMap((file) => parsePemBundle(file.pem).map((item) => ({ file: file.name, item })));
    if (parsed.length > MAX_IMPORT_CERTIFICATES) {
      throw problems.validation(`this import holds ${parsed.length} PEM blocks; send at most ${MAX_IMPORT_CERTIFICATES} per request (the CLI batches)`, [{ field: 'files', message: `at most ${MAX_IMPORT_CERTIFICATES} certificates per request` }]);
    }
    const at = deps.now();
    const items: ImportItem[] = new Array(parsed.length);
    const records: Array<{ position: number; record: ExternalRecord }> = [];
    parsed.forEach(({ file, item }, position) => {
      if ('error' in item) items[position] = { file, index: item.index, status: 'error', error: item.error };
      else {
        const policyFindings = inventoryPolicyFindings(item.certificate, team.policy);
        records.push({ position, record: { teamId: team.id, source: 'imported', origin: file, certificate: item.certificate, policyFindings, requestedBy: caller.tokenId, requestedByPrincipal: caller.accountableId, at } });
      }
    });
    const answer = (position: number, record: ExternalRecord, recorded: { certificateId: string; created: boolean }): ImportItem => ({
      file: record.origin,
      index: (parsed[position]!.item as { index: number }).index,
      status: recorded.created ? 'imported' : 'duplicate',
      certificateId: recorded.certificateId,
      notAfter: record.certificate.notAfter.toISOString(),
      policyFindings: record.policyFindings,
    });
    try {
      // All at once (one transaction); should it fail, one by one below, so that a bad row fails alone.
      const recorded = await recordExternalCertificates(deps.db, records.map(({ record }) => record));
      records.forEach(({ position, record }, index) => (items[position] = answer(position, record, recorded[index]!)));
    } catch {
      for (const { position, record } of records) {
        try {
          items[position] = answer(position, record, await recordExternalCertificate(deps.db, record));
        } catch (error) {
          // Its transaction rolled back: nothing of it is stored; the others go on.
          items[position] = { file: record.origin, index: (parsed[position]!.item as { index: number }).index, status: 'error', error: `could not be stored: ${(error as Error).message}` };
        }
      }
    }
    const counts = { imported: 0, duplicate: 0, error: 0, flagged: 0 };
    for (const item of items) {
      counts[item.status]++;
      if (item.status !== 'error' && item.policyFindings.length > 0) counts.flagged++;
    }
    await appendAuditEvent(deps.db, {
      at,
      ...auditActor(caller),
      action: 'inventory.imported',
      teamId: team.id,
      details: { files: body.files.map((file) => file.name), ...counts, certificateIds: items.flatMap((item) => (item.status === 'imported' ? [item.certificateId] : [])) },
    });
    return c.json({ teamId: team.id, ...counts, items });
  });

  app.post('/:id/scans', requireRole('admin'), async (c) => {
    const caller = c.get('principal');
    const team = await visibleTeam(caller, c.req.param('id'));
    const body = await parseJsonBody(c, scanSchema);
    const errors: FieldProblem[] = [];
    const endpoints: ScanEndpoint[] = [];
    body.targets.forEach((target, index) => {
      const expanded = expandScanTarget(target);
      if ('error' in expanded) return errors.push({ field: `targets/${index}`, message: `${target}: ${expanded.error}` });
      for (const endpoint of expanded.endpoints) {
        const refusal = checkDestinationHost(endpoint.host, endpoint.port, team.policy.destinationHosts, deps.destinationRules);
        if (refusal) return errors.push({ field: `targets/${index}`, message: `${endpoint.endpoint}: ${refusal.message}`, code: refusal.code });
        if (!endpoints.some((known) => known.endpoint === endpoint.endpoint)) endpoints.push(endpoint);
      }
      return undefined;
    });
    if (errors.length > 0) throw problems.validation(`${errors.length} target(s) cannot be scanned; a team may scan only what its policy's destinationHosts allow`, errors);
    if (endpoints.length > MAX_SCAN_ENDPOINTS) throw problems.validation(`the targets expand to ${endpoints.length} endpoints; at most ${MAX_SCAN_ENDPOINTS} per scan`, [{ field: 'targets', message: `at most ${MAX_SCAN_ENDPOINTS} endpoints` }]);
    const scanId = newId('scan');
    const input: InventoryScanInput = { scanId, teamId: team.id, endpoints, ...(body.serverName ? { serverName: body.serverName } : {}), requestedBy: caller.tokenId, requestedByPrincipal: caller.accountableId };
    try {
      await deps.temporal.workflow.start('inventoryScan', { taskQueue: deps.taskQueue, workflowId: scanWorkflowId(scanId), args: [input], memo: { teamId: team.id } });
    } catch (error) {
      throw problems.unavailable(`the scan could not be started: ${(error as Error).message}; retry`);
    }
    await appendAuditEvent(deps.db, { at: deps.now(), ...auditActor(caller), action: 'inventory.scan_started', teamId: team.id, details: { scanId, targets: body.targets, endpoints: endpoints.length } });
    return c.json({ id: scanId, workflowId: scanWorkflowId(scanId), teamId: team.id, endpoints: endpoints.length }, 202, { Location: `/v1/teams/${team.id}/scans/${scanId}` });
  });

  app.get('/:id/scans/:scanId', requireRole('admin'), async (c) => {
    const team = await visibleTeam(c.get('principal'), c.req.param('id'));
    const scanId = c.req.param('scanId');
    const handle = deps.temporal.workflow.getHandle(scanWorkflowId(scanId));
    let description;
    try {
      description = await handle.describe();
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) throw problems.notFound(`team "${team.name}" has no scan "${scanId}"`);
      throw problems.unavailable(`the scan's workflow cannot be read: ${(error as Error).message}`);
    }
    if (description.memo?.teamId !== team.id) throw problems.notFound(`team "${team.name}" has no scan "${scanId}"`);
    const status = description.status.name;
    const result = status === 'COMPLETED' ? ((await handle.result()) as { results: unknown[] }) : null;
    return c.json({ id: scanId, teamId: team.id, status: status.toLowerCase(), results: result?.results ?? null });
  });

  return app;
}

/** Mounted under `/v1/certificates`. */
export function inventoryCertificateRoutes(deps: ApiDeps) {
  const app = new Hono<AppEnv>();

  async function visibleTracked(caller: Principal, id: string) {
    const certificate = await findCertificate(deps.db, id);
    if (!certificate || !canAccessTeam(caller, certificate.teamId)) throw problems.notFound(`no certificate "${id}" is visible to this token`);
    const item = await findInventoryItem(deps.db, certificate.id);
    return { certificate, item };
  }

  app.get('/:id/inventory', async (c) => {
    const { certificate, item } = await visibleTracked(c.get('principal'), c.req.param('id'));
    const sightings = await listSightings(deps.db, certificate.id);
    return c.json({
      certificateId: certificate.id,
      source: certificate.source,
      ...(item
        ? {
            origin: item.origin,
            subject: item.subject,
            issuer: item.issuerName,
            publicKey: item.publicKey,
            fingerprintSha256: item.fingerprintSha256,
            policyFindings: item.policyFindings,
            firstSeenAt: item.firstSeenAt.toISOString(),
            lastSeenAt: item.lastSeenAt.toISOString(),
            adoptedBy: adoptedByCertificate(item),
            adoptedAt: adoptedByCertificate(item) ? item.adoptedAt!.toISOString() : null,
          }
        : {}),
      sightings: sightings.map((sighting) => ({
        endpoint: sighting.endpoint,
        serverName: sighting.serverName || null,
        scanId: sighting.scanId,
        firstSeenAt: sighting.firstSeenAt.toISOString(),
        lastSeenAt: sighting.lastSeenAt.toISOString(),
        chainPem: sighting.chainPem,
      })),
    });
  });

  app.post('/:id/adopt', requireRole('requester'), async (c) => {
    const caller = c.get('principal');
    const { certificate, item } = await visibleTracked(caller, c.req.param('id'));
    if (!item || !(TRACKED_SOURCES as readonly string[]).includes(certificate.source)) {
      throw problems.conflict(`certificate "${certificate.id}" is already managed by Certflow (source ${certificate.source}); only imported or discovered certificates are adopted`);
    }
    const adoptedBy = adoptedByCertificate(item);
    if (adoptedBy) throw problems.conflict(`certificate "${certificate.id}" was already adopted by "${adoptedBy}"`);
    const options = await parseOptionalJsonBody(c, adoptSchema);
    const team = (await findTeam(deps.db, certificate.teamId))!;
    const version = certificate.currentVersionId ? await findVersion(deps.db, certificate.currentVersionId) : null;
    if (!(await claimAdoption(deps.db, certificate.id, deps.now()))) throw problems.conflict(`certificate "${certificate.id}" is being adopted by another request`);
    let answer;
    try {
      // The same names, through the normal request path: policy, approvals, quotas, reserved names.
      answer = await createCertificate(deps, {
        principal: caller,
        team,
        body: {
          team: team.id,
          ...(certificate.commonName ? { commonName: certificate.commonName } : {}),
          dnsNames: certificate.dnsNames,
          ipAddresses: certificate.ipAddresses,
          uris: certificate.uris,
          profile: certificate.profile,
          keyAlgorithm: options.keyAlgorithm ?? (team.policy.keyAlgorithms.includes(certificate.keyAlgorithm) ? certificate.keyAlgorithm : team.policy.keyAlgorithms[0]),
          validity: options.validity ?? defaultValiditySeconds(team.policy),
          ...(options.renewBefore !== undefined ? { renewBefore: options.renewBefore } : {}),
          destinations: options.destinations ?? [],
        },
      });
    } catch (error) {
      await releaseAdoption(deps.db, certificate.id);
      throw error;
    }
    const at = deps.now();
    await markAdopted(deps.db, certificate.id, answer.certificateId, at);
    await appendAuditEvent(deps.db, {
      at,
      ...auditActor(caller),
      action: 'inventory.adopted',
      teamId: team.id,
      certificateId: certificate.id,
      details: { adoptedBy: answer.certificateId, fingerprintSha256: item.fingerprintSha256, previousNotAfter: version?.notAfter.toISOString() ?? null },
    });
    const created = JSON.parse(answer.json) as Record<string, unknown>;
    return c.json({ adopted: certificate.id, certificate: created }, answer.status as 202, { Location: `/v1/certificates/${answer.certificateId}` });
  });

  return app;
}

/**
 * The invariants the fault suite checks once everything has settled and the worker is stopped:
 * against Postgres, the API (CRL, OCSP, bulk status over HTTP) and external tools (openssl). Each
 * returns what it checked and every violation with its evidence (rows and, for a certificate, a
 * summary of its workflow history).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { eq, inArray } from 'drizzle-orm';
import { verifyAuditChain } from '../../db/audit.js';
import { bulkItems, bulkOperations, certificateKeys, certificates, certificateVersions, deliveries, issuedSerials, issuers } from '../../db/schema.js';
import { canonicalSerial, readSignerLog } from './faulty-signer.js';
import { api, BOOTSTRAP_TOKEN, type RunContext } from './scenario.js';

const execFileAsync = promisify(execFile);

export interface Violation {
  subject: string;
  problem: string;
  evidence?: unknown;
}

export interface InvariantResult {
  id: number;
  name: string;
  /** How many things were checked: 0 would mean the check proved nothing. */
  checked: number;
  violations: Violation[];
}

type CertificateRow = typeof certificates.$inferSelect;
type VersionRow = typeof certificateVersions.$inferSelect;
type KeyRow = typeof certificateKeys.$inferSelect;
type DeliveryRow = typeof deliveries.$inferSelect;

export interface Snapshot {
  certificates: CertificateRow[];
  versions: VersionRow[];
  keys: KeyRow[];
  deliveries: DeliveryRow[];
}

/** Everything of the run's team, read once (the worker is stopped: nothing changes any more). */
export async function readSnapshot(ctx: RunContext): Promise<Snapshot> {
  const certificateRows = await ctx.db.select().from(certificates).where(eq(certificates.teamId, ctx.teamId));
  const ids = certificateRows.map((row) => row.id);
  if (ids.length === 0) return { certificates: [], versions: [], keys: [], deliveries: [] };
  const versions = await ctx.db.select().from(certificateVersions).where(inArray(certificateVersions.certificateId, ids));
  const keys = await ctx.db.select().from(certificateKeys).where(inArray(certificateKeys.certificateId, ids));
  const versionIds = versions.map((version) => version.id);
  const deliveryRows = versionIds.length === 0 ? [] : await ctx.db.select().from(deliveries).where(inArray(deliveries.versionId, versionIds));
  return { certificates: certificateRows, versions, keys, deliveries: deliveryRows };
}

export async function checkInvariants(ctx: RunContext, snapshot: Snapshot): Promise<InvariantResult[]> {
  const results: InvariantResult[] = [];
  const run = async (id: number, name: string, check: () => Promise<{ checked: number; violations: Violation[] }>) => {
    try {
      results.push({ id, name, ...(await check()) });
    } catch (error) {
      results.push({ id, name, checked: 0, violations: [{ subject: 'check', problem: `the check itself failed: ${String(error)}` }] });
    }
  };
  await run(1, 'every request reached a final state', () => finalStates(ctx, snapshot));
  await run(2, 'exactly one version per (certificate, generation), generations contiguous', async () => oneVersionPerGeneration(snapshot));
  await run(3, 'no duplicate serials (per issuer and globally)', () => noDuplicateSerials(ctx));
  await run(4, 'every serial the signer signed is recorded', () => signedSerialsRecorded(ctx));
  await run(5, 'no stored private key without its certificate version', async () => noOrphanKeys(snapshot));
  await run(6, 'every revocation is in the current CRL and OCSP says revoked', () => revocationsPublished(ctx));
  await run(7, 'no superseded version revoked before its replacement was rolled out', async () => noEarlyRevocation(snapshot));
  await run(8, 'the audit chain verifies', () => auditChain(ctx));
  await run(9, 'each bulk operation completed with exactly one outcome per selected certificate', () => bulkOutcomes(ctx));
  // Evidence for certificates named in violations: their workflow history, summarized.
  for (const result of results) {
    for (const violation of result.violations.slice(0, 5)) {
      if (/^crt_/.test(violation.subject)) {
        violation.evidence = { ...(violation.evidence as object), ...(await certificateEvidence(ctx, snapshot, violation.subject)) };
      }
    }
  }
  return results;
}

/** 1. active with a current version that is its newest, or revoked with every version revoked; every accepted revocation ended revoked. */
async function finalStates(ctx: RunContext, snapshot: Snapshot) {
  const violations: Violation[] = [];
  const byCertificate = groupBy(snapshot.versions, (version) => version.certificateId);
  for (const certificate of snapshot.certificates) {
    const own = (byCertificate.get(certificate.id) ?? []).sort((a, b) => a.generation - b.generation);
    const newest = own[own.length - 1];
    if (certificate.state === 'active') {
      const current = own.find((version) => version.id === certificate.currentVersionId);
      if (!current) violations.push({ subject: certificate.id, problem: 'active without a current version' });
      else if (current !== newest) violations.push({ subject: certificate.id, problem: `current version is generation ${current.generation}, the newest is ${newest?.generation}` });
      else if (current.status !== 'active') violations.push({ subject: certificate.id, problem: `current version is ${current.status}` });
      const active = own.filter((version) => version.status === 'active');
      if (active.length !== 1) violations.push({ subject: certificate.id, problem: `${active.length} active versions (generations ${active.map((v) => v.generation).join(',')})` });
    } else if (certificate.state === 'revoked') {
      const notRevoked = own.filter((version) => version.status !== 'revoked');
      if (notRevoked.length > 0) violations.push({ subject: certificate.id, problem: `revoked, but generations ${notRevoked.map((v) => `${v.generation} (${v.status})`).join(', ')} are not` });
    } else {
      violations.push({ subject: certificate.id, problem: `ended in state ${certificate.state}` });
    }
  }
  const states = new Map(snapshot.certificates.map((certificate) => [certificate.id, certificate.state]));
  for (const request of ctx.revocations) {
    if (states.get(request.certificateId) !== 'revoked') {
      violations.push({
        subject: request.certificateId,
        problem: `revocation requested at ${request.requestedAt} (${request.acceptedAt ? `accepted at ${request.acceptedAt}` : 'never accepted'}) but the certificate is ${states.get(request.certificateId)}`,
        evidence: { apiAnswers: summarizeAnswers(request.answers) },
      });
    }
  }
  for (const failure of ctx.creationFailures) violations.push({ subject: 'POST /v1/certificates', problem: `a request was never accepted: ${failure}` });
  // The lifecycles as their own status query saw them once things had settled.
  for (const entry of ctx.settle?.unsettled ?? []) violations.push({ subject: entry.certificateId, problem: `still mid-step after the quiet period: ${entry.observed}` });
  return { checked: snapshot.certificates.length + ctx.revocations.length, violations };
}

/** 2. */
function oneVersionPerGeneration(snapshot: Snapshot) {
  const violations: Violation[] = [];
  const byCertificate = groupBy(snapshot.versions, (version) => version.certificateId);
  for (const certificate of snapshot.certificates) {
    const generations = (byCertificate.get(certificate.id) ?? []).map((version) => version.generation).sort((a, b) => a - b);
    const expected = generations.map((_, index) => index + 1);
    if (generations.length === 0 || generations.join(',') !== expected.join(',')) {
      violations.push({ subject: certificate.id, problem: `generations [${generations.join(',')}], expected 1..${generations.length || 1} each once` });
    }
  }
  return { checked: snapshot.versions.length, violations };
}

/** 3. Over every version in the database (all teams, all issuers) and over what the signer signed. */
async function noDuplicateSerials(ctx: RunContext) {
  const violations: Violation[] = [];
  const rows = await ctx.db.select({ id: certificateVersions.id, issuerId: certificateVersions.issuerId, serial: certificateVersions.serial }).from(certificateVersions);
  const issuerRows = await ctx.db.select({ id: issuers.id, pem: issuers.certificatePem }).from(issuers);
  const all = [...rows.map((row) => ({ what: `version ${row.id}`, issuerId: row.issuerId, serial: canonicalSerial(row.serial) }))];
  for (const issuer of issuerRows) all.push({ what: `issuer ${issuer.id}`, issuerId: 'ca', serial: canonicalSerial(await certificateSerial(issuer.pem)) });
  for (const [serial, holders] of groupBy(all, (row) => row.serial)) {
    if (holders.length > 1) violations.push({ subject: `serial ${serial}`, problem: `held by ${holders.map((h) => `${h.what} (issuer ${h.issuerId})`).join(', ')}` });
  }
  const signed = readSignerLog(ctx.signerLog).filter((line) => line.kind === 'signed');
  for (const [key, lines] of groupBy(signed, (line) => `${line.issuerId}/${line.serial}`)) {
    if (lines.length > 1) violations.push({ subject: `serial ${key}`, problem: `signed ${lines.length} times by the CA (TBS ${[...new Set(lines.map((l) => l.tbsSha256.slice(0, 12)))].join(', ')})`, evidence: lines });
  }
  return { checked: all.length + signed.length, violations };
}

/**
 * 4. Every certificate the signer produced (its log) is recorded under the same issuer in the serial
 * log the CA writes before signing (issued_serials), so that one signed by a worker killed before it
 * recorded the version is still known; and every version's serial is in that log.
 */
async function signedSerialsRecorded(ctx: RunContext) {
  const violations: Violation[] = [];
  const signed = readSignerLog(ctx.signerLog).filter((line) => line.kind === 'signed');
  const logged = await ctx.db.select({ serial: issuedSerials.serial, issuerId: issuedSerials.issuerId }).from(issuedSerials);
  const recorded = new Map(logged.map((row) => [canonicalSerial(row.serial), row.issuerId]));
  for (const line of signed) {
    if (line.kind !== 'signed') continue;
    const issuerId = recorded.get(line.serial);
    if (issuerId === line.issuerId) continue;
    violations.push({
      subject: `serial ${line.serial}`,
      problem: issuerId ? `signed by ${line.issuerId}, recorded under ${issuerId}` : `signed at ${line.at} by worker pid ${line.pid}, never recorded`,
      evidence: { signed: line, faultsAround: faultsAround(ctx, line.at) },
    });
  }
  const versions = await ctx.db.select({ serial: certificateVersions.serial, issuerId: certificateVersions.issuerId }).from(certificateVersions);
  for (const version of versions) {
    if (recorded.get(canonicalSerial(version.serial)) !== version.issuerId) violations.push({ subject: `serial ${version.serial}`, problem: 'a version whose serial is missing from the serial log' });
  }
  return { checked: signed.length, violations };
}

/** 5. A sealed key whose (certificate, generation) has no version: a key nobody can ever use or revoke. */
function noOrphanKeys(snapshot: Snapshot) {
  const violations: Violation[] = [];
  const versions = new Set(snapshot.versions.map((version) => `${version.certificateId}/${version.generation}`));
  for (const key of snapshot.keys) {
    if (!versions.has(`${key.certificateId}/${key.generation}`)) {
      violations.push({ subject: key.certificateId, problem: `key ${key.id} of generation ${key.generation} (stored ${key.createdAt.toISOString()}) has no certificate version` });
    }
  }
  return { checked: snapshot.keys.length, violations };
}

/**
 * 6. For each issuer: its CRL as the API serves it, read by `openssl crl`, lists every revoked,
 * unexpired serial (RFC 5280 lets expired ones go); `openssl ocsp` against POST /pki/ocsp says
 * `revoked` for them (all, or a sample in the full size) and `good` for a few current versions.
 */
async function revocationsPublished(ctx: RunContext) {
  const violations: Violation[] = [];
  let checked = 0;
  const dir = path.join(ctx.dir, 'pki');
  mkdirSync(dir, { recursive: true });
  const file = (name: string) => path.join(dir, name);
  const issuerRows = await ctx.db.select().from(issuers);
  const byId = new Map(issuerRows.map((row) => [row.id, row]));
  const chainOf = (issuerId: string): string => {
    const pems: string[] = [];
    for (let id: string | null = issuerId; id; id = byId.get(id)?.parentId ?? null) pems.push(byId.get(id)!.certificatePem.trim());
    return `${pems.join('\n')}\n`;
  };
  const versions = (await ctx.db.select().from(certificateVersions)).filter((version): version is typeof version & { issuerId: string } => version.issuerId !== null);
  const revoked = versions.filter((version) => version.status === 'revoked');
  const now = Date.now();
  for (const issuerId of new Set(versions.map((version) => version.issuerId))) {
    writeFileSync(file(`${issuerId}.pem`), `${byId.get(issuerId)!.certificatePem.trim()}\n`);
    writeFileSync(file(`${issuerId}-chain.pem`), chainOf(issuerId));
    const response = await fetch(`${ctx.baseUrl}/pki/issuers/${issuerId}.crl`);
    if (response.status !== 200) {
      violations.push({ subject: `issuer ${issuerId}`, problem: `GET /pki/issuers/${issuerId}.crl answered ${response.status}` });
      continue;
    }
    writeFileSync(file(`${issuerId}.crl`), Buffer.from(await response.arrayBuffer()));
    const text = await openssl(['crl', '-inform', 'DER', '-in', file(`${issuerId}.crl`), '-noout', '-text', '-CAfile', file(`${issuerId}-chain.pem`)]);
    if (!/verify OK/.test(text.stderr)) violations.push({ subject: `issuer ${issuerId}`, problem: `openssl does not verify its CRL: ${text.stderr.trim().slice(0, 300)}` });
    const lastUpdate = new Date(/Last Update: (.+)/.exec(text.stdout)?.[1] ?? NaN);
    const listed = new Set([...text.stdout.matchAll(/Serial Number: ([0-9A-Fa-f]+)/g)].map((match) => canonicalSerial(match[1]!)));
    for (const version of revoked.filter((v) => v.issuerId === issuerId)) {
      if (version.notAfter.getTime() <= lastUpdate.getTime()) continue; // expired before the CRL: may be left out
      checked += 1;
      if (!listed.has(canonicalSerial(version.serial))) {
        violations.push({ subject: version.certificateId, problem: `generation ${version.generation} (serial ${version.serial}, revoked ${version.revokedAt?.toISOString()}) missing from ${issuerId}'s CRL of ${lastUpdate.toISOString()}` });
      }
    }
  }
  // OCSP: revoked and unexpired (all in the small size), and a few current active versions that must be good.
  const ocspRevoked = revoked.filter((version) => version.notAfter.getTime() > now + 5_000).slice(0, ctx.config.ocspSample);
  const ocspGood = versions.filter((version) => version.status === 'active' && version.notAfter.getTime() > now + 5_000).slice(0, 5);
  for (const [version, expected] of [...ocspRevoked.map((v) => [v, 'revoked'] as const), ...ocspGood.map((v) => [v, 'good'] as const)]) {
    const leaf = file(`${version.id}.pem`);
    writeFileSync(leaf, version.certificatePem);
    const answer = await openssl(['ocsp', '-no_nonce', '-issuer', file(`${version.issuerId}.pem`), '-cert', leaf, '-url', `${ctx.baseUrl}/pki/ocsp`, '-CAfile', file(`${version.issuerId}-chain.pem`)]);
    checked += 1;
    const status = new RegExp(`${escapeRegExp(leaf)}: (\\w+)`).exec(answer.stdout)?.[1] ?? `none (${answer.stderr.trim().slice(0, 200)})`;
    if (status !== expected || !/Response verify OK/.test(answer.stderr)) {
      violations.push({ subject: version.certificateId, problem: `openssl ocsp says ${status} for generation ${version.generation} (serial ${version.serial}, ${version.status}); expected ${expected}; ${answer.stderr.trim().slice(0, 200)}` });
    }
  }
  return { checked, violations };
}

/**
 * 7. A version revoked as superseded (bulk revokeSuperseded), or revoked at all while its
 * certificate lives on, must have a replacement delivered to every destination no later than its
 * revocation. The certificate's own revocation (the suite revokes with cessationOfOperation)
 * revokes every version on purpose and is not checked here.
 */
function noEarlyRevocation(snapshot: Snapshot) {
  const violations: Violation[] = [];
  let checked = 0;
  const byCertificate = groupBy(snapshot.versions, (version) => version.certificateId);
  const deliveriesByVersion = groupBy(snapshot.deliveries, (delivery) => delivery.versionId);
  for (const certificate of snapshot.certificates) {
    const own = (byCertificate.get(certificate.id) ?? []).sort((a, b) => a.generation - b.generation);
    for (const version of own) {
      if (version.status !== 'revoked' || !version.revokedAt) continue;
      if (certificate.state === 'revoked' && version.revocationReason !== 'superseded') continue;
      checked += 1;
      const replacement = own.find((v) => v.generation === version.generation + 1);
      const destinations = certificate.destinations.length;
      const delivered = (replacement ? (deliveriesByVersion.get(replacement.id) ?? []) : []).filter((d) => d.deliveredAt !== null && d.deliveredAt.getTime() <= version.revokedAt!.getTime());
      if (!replacement || new Set(delivered.map((d) => d.destinationIndex)).size < destinations) {
        violations.push({
          subject: certificate.id,
          problem: `generation ${version.generation} revoked at ${version.revokedAt.toISOString()} (${version.revocationReason}) before generation ${version.generation + 1} was delivered to all ${destinations} destinations`,
          evidence: { replacement: replacement?.id ?? null, deliveries: replacement ? deliveriesByVersion.get(replacement.id) ?? [] : [] },
        });
      }
    }
  }
  return { checked, violations };
}

/** 8. db/audit.ts's verifier over the whole chain. */
async function auditChain(ctx: RunContext) {
  const problem = await verifyAuditChain(ctx.db);
  const [{ count } = { count: 0 }] = (await ctx.db.execute<{ count: number }>('select count(*)::int as count from audit_events')).rows;
  return { checked: count, violations: problem ? [{ subject: `audit event ${problem.seq}`, problem: problem.problem }] : [] };
}

/** 9. Every bulk operation of the run: completed, one outcome per selected certificate, in the database and through the API. */
async function bulkOutcomes(ctx: RunContext) {
  const violations: Violation[] = [];
  let checked = 0;
  const operations = await ctx.db.select().from(bulkOperations);
  if (operations.length === 0) violations.push({ subject: 'bulk', problem: `no bulk operation exists (API answers: ${ctx.bulk?.answers.join(' | ') ?? 'none'})` });
  for (const operation of operations) {
    const items = await ctx.db.select().from(bulkItems).where(eq(bulkItems.bulkId, operation.id));
    checked += items.length;
    if (operation.state !== 'completed') violations.push({ subject: `bulk ${operation.id}`, problem: `state ${operation.state}`, evidence: { counts: operation.counts } });
    const missing = items.filter((item) => item.outcome === null);
    for (const item of missing) violations.push({ subject: item.certificateId, problem: `no outcome in bulk ${operation.id}` });
    if (operation.counts.selected !== items.length) violations.push({ subject: `bulk ${operation.id}`, problem: `${operation.counts.selected} selected, ${items.length} items` });
    const view = await api(ctx.baseUrl, 'GET', `/v1/bulk-reissues/${operation.id}`, BOOTSTRAP_TOKEN);
    if (view.status !== 200 || view.body['state'] !== 'completed') violations.push({ subject: `bulk ${operation.id}`, problem: `GET /v1/bulk-reissues/${operation.id}: ${view.status} state ${String(view.body['state'])}` });
  }
  return { checked, violations };
}

/** Rows of one certificate and a summary of its workflow history (event types and the last events). */
async function certificateEvidence(ctx: RunContext, snapshot: Snapshot, certificateId: string): Promise<Record<string, unknown>> {
  const certificate = snapshot.certificates.find((row) => row.id === certificateId);
  const versions = snapshot.versions.filter((row) => row.certificateId === certificateId).sort((a, b) => a.generation - b.generation);
  const evidence: Record<string, unknown> = {
    certificate: certificate && { state: certificate.state, currentVersionId: certificate.currentVersionId, workflowId: certificate.workflowId },
    versions: versions.map((v) => ({ id: v.id, generation: v.generation, serial: v.serial, status: v.status, createdAt: v.createdAt, revokedAt: v.revokedAt, reason: v.revocationReason })),
    keys: snapshot.keys.filter((key) => key.certificateId === certificateId).map((key) => ({ generation: key.generation, createdAt: key.createdAt })),
  };
  if (!certificate) return evidence;
  try {
    const handle = ctx.client.workflow.getHandle(certificate.workflowId);
    const description = await handle.describe();
    const history = await handle.fetchHistory();
    const events = history.events ?? [];
    const counts: Record<string, number> = {};
    const typeName = (type: unknown) => EVENT_TYPES[Number(type)] ?? String(type);
    for (const event of events) counts[typeName(event.eventType)] = (counts[typeName(event.eventType)] ?? 0) + 1;
    evidence['workflow'] = {
      runId: description.runId,
      status: description.status.name,
      eventCounts: counts,
      lastEvents: events.slice(-8).map((event) => `${event.eventId} ${typeName(event.eventType)}`),
      failure: events.map((event) => event.workflowExecutionFailedEventAttributes?.failure?.message).find(Boolean) ?? null,
    };
  } catch (error) {
    evidence['workflow'] = `history unreadable: ${String(error)}`;
  }
  return evidence;
}

/** temporal.api.enums.v1.EventType values a lifecycle history holds (the history carries numbers). */
const EVENT_TYPES: Record<number, string> = {
  1: 'WorkflowExecutionStarted', 2: 'WorkflowExecutionCompleted', 3: 'WorkflowExecutionFailed', 4: 'WorkflowExecutionTimedOut',
  5: 'WorkflowTaskScheduled', 6: 'WorkflowTaskStarted', 7: 'WorkflowTaskCompleted', 8: 'WorkflowTaskTimedOut', 9: 'WorkflowTaskFailed',
  10: 'ActivityTaskScheduled', 11: 'ActivityTaskStarted', 12: 'ActivityTaskCompleted', 13: 'ActivityTaskFailed', 14: 'ActivityTaskTimedOut',
  15: 'ActivityTaskCancelRequested', 16: 'ActivityTaskCanceled', 17: 'TimerStarted', 18: 'TimerFired', 19: 'TimerCanceled',
  25: 'MarkerRecorded', 26: 'WorkflowExecutionSignaled', 27: 'WorkflowExecutionTerminated', 28: 'WorkflowExecutionContinuedAsNew',
  40: 'UpsertWorkflowSearchAttributes', 41: 'WorkflowExecutionUpdateAccepted', 43: 'WorkflowExecutionUpdateCompleted',
};

function faultsAround(ctx: RunContext, at: string): string[] {
  const t = new Date(at).getTime();
  return ctx.events
    .filter((event) => new Date(event.startedAt).getTime() - 5_000 <= t && t <= new Date(event.endedAt).getTime() + 5_000)
    .map((event) => `${event.kind} ${event.startedAt}..${event.endedAt}`);
}

function summarizeAnswers(answers: string[]): string[] {
  const counts = new Map<string, number>();
  for (const answer of answers) counts.set(answer, (counts.get(answer) ?? 0) + 1);
  return [...counts].map(([answer, count]) => `${count}× ${answer}`);
}

async function certificateSerial(pem: string): Promise<string> {
  const { stdout } = await opensslWithInput(['x509', '-noout', '-serial'], pem);
  return stdout.trim().replace(/^serial=/, '');
}

async function openssl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync('openssl', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? 1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? String(error) };
  }
}

function opensslWithInput(args: string[], input: string): Promise<{ stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile('openssl', args, { encoding: 'utf8' }, (error, stdout) => (error ? reject(error) : resolve({ stdout })));
    child.stdin!.end(input);
  });
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

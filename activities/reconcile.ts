/**
 * `certflow reconcile`: after Postgres was restored from a backup older than Temporal's state,
 * finds every difference between the database and the lifecycle workflows and repairs it
 * (core/reconcile.ts decides, docs/operations.md §11 explains): versions recovered verbatim from
 * the workflows' histories (never signed again), revocations recorded again and published,
 * certificates requested after the backup recovered and revoked, lifecycles restarted, and the
 * audit log's gap behind its outside checkpoint acknowledged by a `platform.restored` event.
 * Idempotent: a second run finds nothing. Every repair is in the audit log and in the report.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import { eq } from 'drizzle-orm';
import { x509 } from '../ca/x509.js';
import { certificateFacts } from '../ca/certificate-facts.js';
import { lifecycleWorkflowId, statusQuery } from '../contracts/lifecycle-messages.js';
import { decideReconcile, type ReconcileAction, type ReconcileDbFacts, type ReconcileWorkflowFacts } from '../core/reconcile.js';
import { CERTIFICATE_SOURCES, renewedByClient, type KeyAlgorithm, type KeySource, type RevocationReason } from '../core/types.js';
import type { AuditCheckpoint } from '../db/audit-chain.js';
import { appendAuditEvent } from '../db/audit.js';
import { acknowledgedRestores, auditHead, auditRowsAt } from '../db/audit-restore.js';
import { selectSweepPage, type SweepCandidate } from '../db/inventory-sweep.js';
import { certificates, certificateVersions } from '../db/schema.js';
import { raiseCrlNumbers } from '../db/crl-numbers.js';
import { listPublishingIssuers } from '../db/revocation.js';
import { recordSerialBeforeSigning } from '../db/serials.js';
import { findTeamByName } from '../db/teams.js';
import { listVersions, recordIssuedVersion, revokeCertificateVersions } from '../db/versions.js';
import { recordVersionIssued, recordVersionsRevoked } from './audit-records.js';
import type { ActivityDeps } from './deps.js';
import { restartLifecycle } from './inventory-sweep.js';
import { readLifecycleHistory, type IssuedInHistory } from './reconcile-history.js';
import { publishCrl } from './publish-crl.js';
import { publishRevocation } from './revoke-certificate.js';

export interface ReconcileOptions {
  /** The workers' task queue: lifecycles are restarted on it, and only its workflows are looked at. */
  taskQueue: string;
  /** Checkpoints kept outside the database (the worker's CERTFLOW_AUDIT_CHECKPOINT_FILE). */
  externalCheckpoints: readonly AuditCheckpoint[];
}

export interface ReconcileFinding {
  certificateId: string | null;
  action: ReconcileAction['kind'] | 'audit_restored' | 'crl_renumbered';
  detail: string;
}

export interface ReconcileReport {
  checked: { certificates: number; workflows: number };
  findings: ReconcileFinding[];
}

const ACTOR = 'reconcile';
const PAGE_SIZE = 100;

export async function reconcilePlatform(deps: ActivityDeps, options: ReconcileOptions): Promise<ReconcileReport> {
  const report: ReconcileReport = { checked: { certificates: 0, workflows: 0 }, findings: [] };
  await reconcileAuditLog(deps, options.externalCheckpoints, report);
  const seen = new Set<string>();
  for (let after: string | null = null; ; ) {
    const page = await selectSweepPage(deps.db, { after, limit: PAGE_SIZE });
    for (const candidate of page) {
      seen.add(candidate.id);
      report.checked.certificates++;
      await oneAtATime(report, candidate.id, () => reconcileRow(deps, options, candidate, report));
    }
    if (page.length < PAGE_SIZE) break;
    after = page.at(-1)!.id;
  }
  await reconcileOrphans(deps, options, seen, report);
  if (report.findings.length > 0) await renumberCrls(deps, report);
  return report;
}

/** Found a restore: CRL numbers move past any published since the backup, and every issuer's CRL is published again. */
async function renumberCrls(deps: ActivityDeps, report: ReconcileReport): Promise<void> {
  const floor = BigInt(deps.now().getTime());
  const raised = await raiseCrlNumbers(deps.db, floor);
  const issuers = await listPublishingIssuers(deps.db, deps.now());
  for (const issuer of issuers) await publishCrl(deps, { issuerId: issuer.id });
  report.findings.push({ certificateId: null, action: 'crl_renumbered', detail: `${raised} issuer(s) raised to CRL number ${floor} (numbers published since the backup are not reused); ${issuers.length} CRL(s) published again` });
}

async function reconcileRow(deps: ActivityDeps, options: ReconcileOptions, candidate: SweepCandidate, report: ReconcileReport): Promise<void> {
  const managed = (CERTIFICATE_SOURCES as readonly string[]).includes(candidate.source);
  if (!managed) return;
  const versions = await listVersions(deps.db, candidate.id);
  const workflowId = candidate.workflowId ?? lifecycleWorkflowId(candidate.id);
  const workflow = await workflowFacts(deps, workflowId);
  if (workflow === 'unknown') {
    report.findings.push({ certificateId: candidate.id, action: 'alert', detail: 'Temporal did not answer for its lifecycle; run reconcile again' });
    return;
  }
  const db: ReconcileDbFacts = {
    state: candidate.state,
    generations: versions.map((version) => version.generation),
    currentGeneration: candidate.version?.generation ?? null,
    revoked: candidate.state === 'revoked',
    // A version recovered below counts: the lifecycle is restarted at it.
    restartable: (candidate.version !== null || (workflow?.currentVersion ?? null) !== null) && !renewedByClient(candidate.keySource as KeySource) && candidate.state !== 'revoking',
  };
  // The candidate as the database has it after the recoveries below (a restart starts at its current version).
  let current = candidate;
  for (const action of decideReconcile(db, workflow)) {
    switch (action.kind) {
      case 'recover_versions':
        await recoverVersions(deps, candidate.id, candidate.teamId, workflowId, action.fromGeneration, action.toGeneration, report);
        current = await withCurrentVersion(deps, candidate);
        break;
      case 'record_revocation':
        await recordRevocation(deps, candidate.id, candidate.teamId, workflowId, action.revokedAt, report);
        break;
      case 'restart':
        if (!current.version) {
          report.findings.push({ certificateId: candidate.id, action: 'alert', detail: 'its lifecycle is not running and it has no recorded version to restart it at' });
          break;
        }
        await restartLifecycle(deps, current, options.taskQueue);
        await audit(deps, candidate.teamId, candidate.id, 'reconcile.lifecycle_restarted', { workflowId: candidate.workflowId, generation: current.version.generation });
        report.findings.push({ certificateId: candidate.id, action: 'restart', detail: `lifecycle ${workflow ? 'closed' : 'missing'}: restarted at generation ${current.version.generation}` });
        break;
      case 'alert':
        report.findings.push({ certificateId: candidate.id, action: 'alert', detail: action.reason });
        break;
      default:
        break;
    }
  }
}

/** The candidate with the certificate's current version as stored now. */
async function withCurrentVersion(deps: ActivityDeps, candidate: SweepCandidate): Promise<SweepCandidate> {
  const [row] = await deps.db
    .select({ version: certificateVersions })
    .from(certificates)
    .innerJoin(certificateVersions, eq(certificateVersions.id, certificates.currentVersionId))
    .where(eq(certificates.id, candidate.id));
  if (!row) return candidate;
  const { version } = row;
  return { ...candidate, version: { id: version.id, generation: version.generation, serial: version.serial, issuedAt: version.createdAt, notAfter: version.notAfter } };
}

/** The lifecycles on the task queue whose certificate has no row: requested after the backup was taken. */
async function reconcileOrphans(deps: ActivityDeps, options: ReconcileOptions, seen: Set<string>, report: ReconcileReport): Promise<void> {
  const workflowIds = new Set<string>();
  for await (const execution of deps.temporal.workflow.list({ query: `WorkflowType = 'certificateLifecycle' AND TaskQueue = '${options.taskQueue.replaceAll("'", '')}'` })) {
    workflowIds.add(execution.workflowId);
  }
  for (const workflowId of workflowIds) {
    report.checked.workflows++;
    const certificateId = workflowId.replace(/^certificate\//, '');
    if (seen.has(certificateId)) continue;
    const [row] = await deps.db.select({ requestedBy: certificates.requestedBy }).from(certificates).where(eq(certificates.id, certificateId));
    // A finished certificate (revoked, rejected): the sweep page skips those; the row wins. Unless reconcile
    // rebuilt it and a run stopped before the rebuild was complete: that run's work is finished now.
    if (row && !(row.requestedBy === ACTOR && (await rebuildUnfinished(deps, certificateId, workflowId)))) continue;
    await oneAtATime(report, certificateId, () => reconcileOrphan(deps, certificateId, workflowId, report));
  }
}

/** A row reconcile rebuilt whose workflow still runs, or signed a version (in its history) the row lacks, or has a version not revoked. */
async function rebuildUnfinished(deps: ActivityDeps, certificateId: string, workflowId: string): Promise<boolean> {
  const workflow = await workflowFacts(deps, workflowId);
  if (workflow === 'unknown' || workflow === null) return false;
  const versions = await listVersions(deps.db, certificateId);
  const recorded = new Set(versions.map((version) => version.generation));
  const signed = workflow.currentVersion ? (await readLifecycleHistory(deps.temporal, workflowId, 1)).versions.keys() : [];
  const missing = [...signed].some((generation) => !recorded.has(generation));
  return workflow.running || missing || versions.some((version) => version.status !== 'revoked');
}

async function reconcileOrphan(deps: ActivityDeps, certificateId: string, workflowId: string, report: ReconcileReport): Promise<void> {
  const workflow = await workflowFacts(deps, workflowId);
  if (workflow === 'unknown' || workflow === null) return;
  for (const action of decideReconcile(null, workflow)) {
    if (action.kind === 'recreate_revoked') {
      if (!(await recreateRevoked(deps, certificateId, workflowId, action.toGeneration, report))) return;
    } else if (action.kind === 'end_workflow') {
      await deps.temporal.workflow.getHandle(workflowId).terminate('its certificate was requested after the database backup that was restored: recovered and revoked by certflow reconcile; request it again');
      report.findings.push({ certificateId, action: 'end_workflow', detail: `terminated ${workflowId}` });
    }
  }
}

/** One certificate's failure is reported and the others are still reconciled; a later run picks it up again. */
async function oneAtATime(report: ReconcileReport, certificateId: string, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    report.findings.push({ certificateId, action: 'alert', detail: `not reconciled: ${error instanceof Error ? error.message : String(error)}; run reconcile again once the cause is fixed` });
  }
}

async function workflowFacts(deps: ActivityDeps, workflowId: string | null): Promise<ReconcileWorkflowFacts | null | 'unknown'> {
  if (!workflowId) return null;
  const handle = deps.temporal.workflow.getHandle(workflowId);
  try {
    const description = await handle.describe();
    const status = await handle.query(statusQuery);
    return { running: description.status.name === 'RUNNING', state: status.state, revokedAt: status.revokedAt, currentVersion: status.currentVersion };
  } catch (error) {
    return error instanceof WorkflowNotFoundError ? null : 'unknown';
  }
}

async function recoverVersions(deps: ActivityDeps, certificateId: string, teamId: string, workflowId: string, from: number, to: number, report: ReconcileReport): Promise<void> {
  const history = await readLifecycleHistory(deps.temporal, workflowId, from);
  for (let generation = from; generation <= to; generation++) {
    const issued = history.versions.get(generation);
    if (!issued) {
      report.findings.push({ certificateId, action: 'alert', detail: `generation ${generation} was signed (the workflow has it) but its certificate is not in the workflow's history: revoke its serial by hand (docs/operations.md §11.5)` });
      continue;
    }
    const stored = await recordRecovered(deps, certificateId, issued);
    await recordVersionIssued(deps.db, stored, teamId);
    await audit(deps, teamId, certificateId, 'reconcile.version_recovered', { versionId: stored.id, generation, serial: stored.serial, workflowId });
    report.findings.push({ certificateId, action: 'recover_versions', detail: `generation ${generation} serial ${stored.serial} recovered from ${workflowId}'s history (not signed again)` });
  }
}

/** Records a version exactly as it was signed, after checking it is the one the workflow names and that our issuer signed it. */
async function recordRecovered(deps: ActivityDeps, certificateId: string, issued: IssuedInHistory) {
  const facts = certificateFacts(issued.certificatePem);
  const certificate = new x509.X509Certificate(issued.certificatePem);
  const fingerprint = Buffer.from(await certificate.getThumbprint('SHA-256')).toString('hex');
  const issuer = await deps.issuers.load(issued.issuerId);
  const signedByUs = await certificate.verify({ publicKey: new x509.X509Certificate(issuer.row.certificatePem), signatureOnly: true });
  if (facts.serial !== issued.serial || fingerprint !== issued.fingerprintSha256 || !signedByUs) {
    throw new Error(`the certificate of ${certificateId} generation ${issued.generation} in the workflow's history is not the one it names or not signed by issuer ${issued.issuerId}; nothing recorded`);
  }
  await recordSerialBeforeSigning(deps.db, { issuerId: issued.issuerId, serial: issued.serial, certificateId, generation: issued.generation });
  return recordIssuedVersion(deps.db, {
    id: issued.versionId,
    certificateId,
    generation: issued.generation,
    issuerId: issued.issuerId,
    serial: issued.serial,
    certificatePem: issued.certificatePem,
    notBefore: new Date(issued.notBefore),
    notAfter: new Date(issued.notAfter),
    fingerprintSha256: issued.fingerprintSha256,
    status: 'active',
    createdAt: new Date(issued.issuedAt),
  });
}

async function recordRevocation(deps: ActivityDeps, certificateId: string, teamId: string, workflowId: string, revokedAt: string | null, report: ReconcileReport, fallback: RevocationReason = 'unspecified'): Promise<void> {
  const reason = (await readLifecycleHistory(deps.temporal, workflowId, Number.MAX_SAFE_INTEGER, 1)).revocationReason ?? fallback;
  const revoked = await revokeCertificateVersions(deps.db, certificateId, reason, revokedAt ? new Date(revokedAt) : deps.now());
  await recordVersionsRevoked(deps.db, revoked, teamId, { recordedBy: ACTOR });
  await publishRevocation(deps, certificateId);
  report.findings.push({ certificateId, action: 'record_revocation', detail: `revoked (${reason}) by its workflow at ${revokedAt ?? 'an unknown time'}: serials ${revoked.map((version) => version.serial).join(', ') || 'none'} recorded revoked and published` });
}

/**
 * A certificate requested after the backup: its row is rebuilt from the signed certificates the
 * workflow's history holds (names from the certificate itself, team from its search attribute),
 * recorded revoked (cessationOfOperation) and published on the CRL and OCSP. False when it cannot be
 * recorded (team unknown, no certificate in the history): the workflow is left alone and alerted on.
 */
async function recreateRevoked(deps: ActivityDeps, certificateId: string, workflowId: string, toGeneration: number, report: ReconcileReport): Promise<boolean> {
  const description = await deps.temporal.workflow.getHandle(workflowId).describe();
  const teamName = description.searchAttributes.Team?.[0];
  const team = typeof teamName === 'string' ? await findTeamByName(deps.db, teamName) : null;
  const history = await readLifecycleHistory(deps.temporal, workflowId, 1);
  const newest = history.versions.get(toGeneration);
  if (!team || !newest) {
    report.findings.push({ certificateId, action: 'alert', detail: `${workflowId} has no row${team ? '' : ` and its team ${String(teamName)} is unknown`}${newest ? '' : ' and its certificate is not in its history'}: not recorded; revoke serial ${newest?.serial ?? '?'} by hand` });
    return false;
  }
  const leaf = new x509.X509Certificate(newest.certificatePem);
  const reason = history.revocationReason ?? 'cessationOfOperation';
  const names = leaf.getExtension(x509.SubjectAlternativeNameExtension)?.names.items ?? [];
  await deps.db
    .insert(certificates)
    .values({
      id: certificateId,
      teamId: team.id,
      commonName: leaf.subjectName.getField('CN')[0] ?? null,
      dnsNames: names.filter((name) => name.type === 'dns').map((name) => name.value),
      ipAddresses: names.filter((name) => name.type === 'ip').map((name) => name.value),
      uris: names.filter((name) => name.type === 'url').map((name) => name.value),
      profile: 'tls-server',
      keyAlgorithm: keyAlgorithmOf(leaf),
      validitySeconds: Math.round((leaf.notAfter.getTime() - leaf.notBefore.getTime()) / 1000),
      destinations: [],
      // Revoked from its first write: a run that stops half-way leaves a revoked row (every version recorded
      // under it is born revoked, db/versions.ts), never a live one the next run would take for a real request.
      state: 'revoked',
      revokedAt: deps.now(),
      revocationReason: reason,
      workflowId,
      requestedBy: ACTOR,
    })
    .onConflictDoNothing();
  for (const generation of [...history.versions.keys()].sort((a, b) => a - b)) {
    const stored = await recordRecovered(deps, certificateId, history.versions.get(generation)!);
    await recordVersionIssued(deps.db, stored, team.id);
  }
  await revokeCertificateVersions(deps.db, certificateId, reason, deps.now());
  await recordVersionsRevoked(deps.db, await listVersions(deps.db, certificateId), team.id, { recordedBy: ACTOR });
  await publishRevocation(deps, certificateId);
  await audit(deps, team.id, certificateId, 'reconcile.certificate_recovered_revoked', { workflowId, serials: [...history.versions.values()].map((version) => version.serial) });
  report.findings.push({ certificateId, action: 'recreate_revoked', detail: `requested after the backup: ${history.versions.size} version(s) recovered from ${workflowId}'s history and revoked (serials ${[...history.versions.values()].map((version) => version.serial).join(', ')})` });
  return true;
}

function keyAlgorithmOf(leaf: x509.X509Certificate): KeyAlgorithm {
  const algorithm = leaf.publicKey.algorithm as { name: string; namedCurve?: string; modulusLength?: number };
  if (algorithm.name === 'ECDSA') return algorithm.namedCurve === 'P-384' ? 'ECDSA-P384' : 'ECDSA-P256';
  if (algorithm.name === 'Ed25519') return 'Ed25519';
  return algorithm.modulusLength === 4096 ? 'RSA-4096' : algorithm.modulusLength === 3072 ? 'RSA-3072' : 'RSA-2048';
}

/**
 * Outside checkpoints that name rows the database no longer has (or has with another hash): the
 * database came back from a backup. A `platform.restored` event names them, once; `audit verify`
 * then reports the restore instead of tampering. The chain itself is never rewritten.
 */
async function reconcileAuditLog(deps: ActivityDeps, external: readonly AuditCheckpoint[], report: ReconcileReport): Promise<void> {
  const key = deps.db.auditKey;
  if (!key || external.length === 0) return;
  const head = await auditHead(deps.db);
  const acknowledged = await acknowledgedRestores(deps.db);
  const stored = await auditRowsAt(deps.db, external.map((checkpoint) => checkpoint.seq));
  const ahead = external.filter(
    (checkpoint) => key.checkpointSealHolds(checkpoint) && stored.get(checkpoint.seq) !== checkpoint.hash && !acknowledged.has(`${checkpoint.seq}/${checkpoint.hash}`),
  );
  if (ahead.length === 0) return;
  const newest = ahead.reduce((a, b) => (b.seq > a.seq ? b : a));
  await appendAuditEvent(deps.db, {
    at: deps.now(),
    actor: ACTOR,
    action: 'platform.restored',
    details: { restoredHeadSeq: head, checkpoints: ahead.map((checkpoint) => ({ seq: checkpoint.seq, hash: checkpoint.hash, at: checkpoint.at.toISOString() })) },
    dedupeKey: `platform.restored/${newest.seq}/${newest.hash}`,
  });
  report.findings.push({
    certificateId: null,
    action: 'audit_restored',
    detail: `the database was restored: the audit log ended at row ${head ?? 'none'} but the outside checkpoint of ${newest.at.toISOString()} names row ${newest.seq}; rows ${(head ?? 0) + 1}–${newest.seq} of that time are lost, and a platform.restored event says so`,
  });
}

async function audit(deps: ActivityDeps, teamId: string, certificateId: string, action: string, details: Record<string, unknown>): Promise<void> {
  await appendAuditEvent(deps.db, { at: deps.now(), actor: ACTOR, action, teamId, certificateId, details });
}

/**
 * `npm run bench:bulk -- --drill [N]`: the issuer compromise drill timed end to end over N certificates on the
 * full path (file destination verified on a TLS endpoint): POST /v1/issuers/<id>/compromise, then
 * marked → successor created → every leaf replaced and verified, superseded versions revoked (the drill's
 * bulk reissue) → old intermediate revoked → CRLs published (the root's CRL listing the intermediate and the old
 * intermediate's final CRL: issuer_crls.updated_at, written in the transaction that publishes each) → report.
 */
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { CompromiseReport } from '../core/issuer-compromise.js';
import { certificates, certificateVersions, issuerCrls, issuers } from '../db/schema.js';
import { startMeter, type MeteredProcesses, type PhaseFigures } from './bulk-meter.js';
import { seedPath, type CertflowBench, type CertflowSettings } from './bulk-certflow.js';

export const DRILL_TARGET_SECONDS = 120;

export interface DrillResult {
  n: number;
  seedSeconds: number;
  figures: PhaseFigures;
  report: CompromiseReport;
  /** Seconds from the POST to each point. */
  phases: Array<{ name: string; seconds: number }>;
  toCrlsPublished: number;
  checks: { onSuccessor: number; oldRevoked: number; intermediateStatus: string; rootCrlEntries: number; oldCrlEntries: number };
}

export async function runDrill(opts: { bench: CertflowBench; settings: CertflowSettings; n: number; processes: MeteredProcesses; databaseUrl: string; label: string }): Promise<DrillResult> {
  const { bench, settings, n, label } = opts;
  const seeded = await seedPath(bench, settings, 'full', n, label);
  const current = await bench.db
    .selectDistinct({ issuerId: certificateVersions.issuerId })
    .from(certificateVersions)
    .where(and(inArray(certificateVersions.certificateId, seeded.ids.slice(0, 50)), eq(certificateVersions.status, 'active')));
  if (current.length !== 1 || !current[0]!.issuerId) throw new Error(`the seeded certificates are under ${current.length} issuers`);
  const issuerId = current[0]!.issuerId;
  const [issuer] = await bench.db.select().from(issuers).where(eq(issuers.id, issuerId));

  const meter = await startMeter(opts.processes, opts.databaseUrl);
  const postedAt = Date.now();
  const headers = { Authorization: `Bearer ${settings.adminToken}`, 'Content-Type': 'application/json' };
  const started = await bench.app.request(`/v1/issuers/${issuerId}/compromise`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ reason: 'benchmark drill', maxConcurrent: settings.window, maxPerSecond: settings.maxPerSecond }),
  });
  if (started.status !== 202) throw new Error(`starting the drill: ${started.status} ${await started.text()}`);
  let report: CompromiseReport | null = null;
  while (!report) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const response = await bench.app.request(`/v1/issuers/${issuerId}/compromise`, { headers });
    const body = (await response.json()) as { state: string; phase?: string; report: CompromiseReport | null; error?: unknown };
    if (body.state === 'failed') throw new Error(`the drill failed: ${JSON.stringify(body.error)}`);
    if (body.state === 'completed') report = body.report;
    else process.stdout.write(`\r  ${label}: drill ${body.phase ?? ''} (${((Date.now() - postedAt) / 1000).toFixed(0)} s)          `);
  }
  const figures = await meter.stop();
  process.stdout.write('\n');

  const crls = await bench.db.select({ issuerId: issuerCrls.issuerId, updatedAt: issuerCrls.updatedAt, entryCount: issuerCrls.entryCount }).from(issuerCrls).where(inArray(issuerCrls.issuerId, [issuerId, issuer!.parentId!]));
  const crlsPublishedAt = Math.max(...crls.map((crl) => crl.updatedAt.getTime()));
  const since = (iso: string | null) => (iso ? (Date.parse(iso) - postedAt) / 1000 : NaN);
  const t = report.timings;
  const phases = [
    { name: 'marked compromised', seconds: since(t.markedAt) },
    { name: 'successor created', seconds: since(t.successorAt) },
    { name: 'reissue started', seconds: since(t.reissueStartedAt) },
    { name: 'every leaf replaced and verified, superseded revoked', seconds: since(t.reissueFinishedAt) },
    { name: 'intermediate revoked', seconds: since(t.revokedAt) },
    { name: 'CRLs published (root + old intermediate)', seconds: (crlsPublishedAt - postedAt) / 1000 },
    { name: 'report stored', seconds: since(t.finishedAt) },
  ];
  const onSuccessor = await bench.db
    .select({ count: sql<number>`count(*)::int` })
    .from(certificates)
    .innerJoin(certificateVersions, eq(certificateVersions.id, certificates.currentVersionId))
    .where(and(inArray(certificates.id, seeded.ids), eq(certificateVersions.issuerId, report.successorId), eq(certificateVersions.status, 'active')));
  const oldRevoked = await bench.db
    .select({ count: sql<number>`count(*)::int` })
    .from(certificateVersions)
    .where(and(inArray(certificateVersions.certificateId, seeded.ids), eq(certificateVersions.issuerId, issuerId), eq(certificateVersions.status, 'revoked')));
  const [after] = await bench.db.select({ status: issuers.status }).from(issuers).where(eq(issuers.id, issuerId));
  return {
    n,
    seedSeconds: seeded.seconds,
    figures,
    report,
    phases,
    toCrlsPublished: (crlsPublishedAt - postedAt) / 1000,
    checks: {
      onSuccessor: onSuccessor[0]!.count,
      oldRevoked: oldRevoked[0]!.count,
      intermediateStatus: after!.status,
      rootCrlEntries: crls.find((crl) => crl.issuerId === issuer!.parentId)?.entryCount ?? 0,
      oldCrlEntries: crls.find((crl) => crl.issuerId === issuerId)?.entryCount ?? 0,
    },
  };
}

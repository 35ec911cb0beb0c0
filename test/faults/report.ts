/** The fault suite's summary: a table on stdout and the same figures as JSON. */
import { writeFileSync } from 'node:fs';
import { readSignerLog } from './faulty-signer.js';
import type { InvariantResult, Snapshot } from './invariants.js';
import { FAULT_KINDS, type FaultKind, type RunContext } from './scenario.js';

export interface FaultSummary {
  size: number;
  config: RunContext['config'];
  faults: Record<FaultKind, number>;
  signerFailuresByKind: Record<string, number>;
  certificates: number;
  versions: number;
  renewals: number;
  signedCertificates: number;
  revocations: { requested: number; accepted: number; certificatesRevoked: number; versionsRevoked: number; supersededRevoked: number };
  bulk: { id: string | null; apiAnswers: string[] };
  workers: { starts: number; unexpectedExits: number };
  invariants: Array<{ id: number; name: string; checked: number; violations: number; examples: unknown[] }>;
  totalViolations: number;
  settled: boolean;
  durationSeconds: { total: number; chaos: number; settle: number; checks: number };
  runDir: string;
}

export function summarize(ctx: RunContext, snapshot: Snapshot, results: InvariantResult[]): FaultSummary {
  const signerLog = readSignerLog(ctx.signerLog);
  const signerFaults = signerLog.filter((line) => line.kind === 'fault');
  const faults = Object.fromEntries(FAULT_KINDS.map((kind) => [kind, 0])) as Record<FaultKind, number>;
  for (const event of ctx.events) faults[event.kind] += 1;
  faults.signer_failure = signerFaults.length;
  const signerFailuresByKind: Record<string, number> = {};
  for (const line of signerFaults) if (line.kind === 'fault') signerFailuresByKind[line.what] = (signerFailuresByKind[line.what] ?? 0) + 1;
  const seconds = (ms: number) => Math.round(ms / 100) / 10;
  return {
    size: ctx.config.size,
    config: ctx.config,
    faults,
    signerFailuresByKind,
    certificates: snapshot.certificates.length,
    versions: snapshot.versions.length,
    renewals: snapshot.versions.filter((version) => version.generation > 1).length,
    signedCertificates: signerLog.filter((line) => line.kind === 'signed').length,
    revocations: {
      requested: ctx.revocations.length,
      accepted: ctx.revocations.filter((request) => request.acceptedAt !== null).length,
      certificatesRevoked: snapshot.certificates.filter((certificate) => certificate.state === 'revoked').length,
      versionsRevoked: snapshot.versions.filter((version) => version.status === 'revoked').length,
      supersededRevoked: snapshot.versions.filter((version) => version.revocationReason === 'superseded').length,
    },
    bulk: { id: ctx.bulk?.bulkId ?? null, apiAnswers: ctx.bulk?.answers ?? [] },
    workers: { starts: ctx.workers.starts, unexpectedExits: ctx.workers.unexpectedExits },
    invariants: results.map((result) => ({ id: result.id, name: result.name, checked: result.checked, violations: result.violations.length, examples: result.violations.slice(0, 5) })),
    totalViolations: results.reduce((sum, result) => sum + result.violations.length, 0),
    settled: ctx.settle?.settled ?? false,
    durationSeconds: {
      total: seconds(ctx.timings.checkedAt - ctx.timings.startedAt),
      chaos: seconds(ctx.timings.chaosEndedAt - ctx.timings.startedAt),
      settle: seconds(ctx.timings.settledAt - ctx.timings.chaosEndedAt),
      checks: seconds(ctx.timings.checkedAt - ctx.timings.settledAt),
    },
    runDir: ctx.dir,
  };
}

export function formatSummary(summary: FaultSummary): string {
  const rows: Array<[string, string]> = [
    ['certificates', String(summary.certificates)],
    ['versions (renewals)', `${summary.versions} (${summary.renewals})`],
    ['certificates signed (signer log)', String(summary.signedCertificates)],
    ['revocations requested / accepted', `${summary.revocations.requested} / ${summary.revocations.accepted}`],
    ['certificates revoked / versions revoked (superseded)', `${summary.revocations.certificatesRevoked} / ${summary.revocations.versionsRevoked} (${summary.revocations.supersededRevoked})`],
    ['bulk reissue', summary.bulk.id ?? `not started: ${summary.bulk.apiAnswers.join(' | ')}`],
    ...FAULT_KINDS.map((kind): [string, string] => [`fault: ${kind}`, String(summary.faults[kind])]),
    ['signer failures by what was signed', JSON.stringify(summary.signerFailuresByKind)],
    ['worker starts / unexpected exits', `${summary.workers.starts} / ${summary.workers.unexpectedExits}`],
    ['settled within the bound', String(summary.settled)],
    ...summary.invariants.map((invariant): [string, string] => [`${invariant.id}. ${invariant.name}`, `${invariant.violations} violations (${invariant.checked} checked)`]),
    ['total violations', String(summary.totalViolations)],
    ['duration (total / chaos / settle / checks)', `${summary.durationSeconds.total} s / ${summary.durationSeconds.chaos} s / ${summary.durationSeconds.settle} s / ${summary.durationSeconds.checks} s`],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  return [`fault suite, size ${summary.size}`, ...rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`)].join('\n');
}

export function writeSummary(summary: FaultSummary, file: string): void {
  writeFileSync(file, `${JSON.stringify(summary, null, 2)}\n`);
}

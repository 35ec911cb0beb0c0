/**
 * `npm run test:faults`: certificates under renewals every minute or so, API revocations and a bulk
 * reissue while the worker is SIGKILLed, the Temporal dev server restarted on its SQLite file,
 * Postgres stopped with an immediate shutdown for 30 s and the signer failing 5 % of its calls; then
 * the invariants (invariants.ts). CERTFLOW_FAULTS_SIZE sets the number of certificates (default 40,
 * which runs in `npm test`); CERTFLOW_FAULTS_REPORT where the JSON summary goes;
 * CERTFLOW_FAULTS_KEEP=1 keeps the run directory (logs, signer log, Postgres and Temporal data),
 * which is also kept when an invariant fails; CERTFLOW_FAULTS_PROVE_CHECKS=1 then breaks each
 * invariant once in the data (corruptions.ts) and expects every check to notice.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { afterAll, describe, expect, it } from 'vitest';
import { corruptEveryInvariant } from './corruptions.js';
import { checkInvariants, readSnapshot } from './invariants.js';
import { formatSummary, summarize, writeSummary } from './report.js';
import { faultConfig, runChaos, settle, setUp, FAULT_KINDS, type RunContext } from './scenario.js';

const config = faultConfig();
const timeoutMs = (config.chaosSeconds + config.settleTimeoutSeconds + 600 + config.size) * 1000;
let ctx: RunContext | null = null;
let keep = process.env['CERTFLOW_FAULTS_KEEP'] === '1';
const dir = mkdtempSync(path.join(os.tmpdir(), 'certflow-faults-'));
// As root, Postgres runs as user postgres, which must reach its data dir in here (mkdtemp makes 0700).
chmodSync(dir, 0o755);

afterAll(async () => {
  await ctx?.close();
  if (!keep) rmSync(dir, { recursive: true, force: true });
}, 120_000);

describe('fault suite', () => {
  it(`${config.size} certificates under worker kills, Temporal restarts, Postgres outages and signer failures keep every invariant`, { timeout: timeoutMs }, async () => {
    Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
    ctx = await setUp(config, dir);
    await runChaos(ctx);
    await settle(ctx);
    const snapshot = await readSnapshot(ctx);
    const results = await checkInvariants(ctx, snapshot);
    ctx.timings.checkedAt = Date.now();
    const summary = summarize(ctx, snapshot, results);
    const reportFile = process.env['CERTFLOW_FAULTS_REPORT'] ?? path.join(os.tmpdir(), `certflow-faults-summary-${config.size}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeSummary(summary, reportFile);
    if (summary.totalViolations > 0) keep = true;
    console.log(`${formatSummary(summary)}\n  summary JSON: ${reportFile}\n  run directory: ${dir}${keep ? '' : ' (removed)'}`);

    if (process.env['CERTFLOW_FAULTS_PROVE_CHECKS'] === '1') {
      // Break each invariant once in the stopped run's data: every check must notice.
      const corruptions = await corruptEveryInvariant(ctx, snapshot);
      const again = await checkInvariants(ctx, await readSnapshot(ctx));
      console.log(['checks proven against corrupted data:', ...corruptions.map((c) => `  corrupted ${c}`), ...again.map((r) => `  ${r.id}. ${r.violations.length} violations: ${r.violations.slice(0, 3).map((v) => `${v.subject}: ${v.problem}`.slice(0, 160)).join(' | ')}`)].join('\n'));
      expect(again.filter((result) => result.violations.length <= (results.find((r) => r.id === result.id)?.violations.length ?? 0)).map((result) => result.id)).toEqual([]);
    }

    // Every fault kind fired, and the run did something worth checking.
    for (const kind of FAULT_KINDS) expect(summary.faults[kind], `faults of kind ${kind}`).toBeGreaterThan(0);
    expect(summary.certificates).toBe(config.size);
    expect(summary.renewals).toBeGreaterThan(config.size);
    for (const invariant of summary.invariants) expect(invariant.checked, `invariant ${invariant.id} checked nothing`).toBeGreaterThan(0);
    expect(
      summary.invariants.filter((invariant) => invariant.violations > 0).map((invariant) => `${invariant.id}. ${invariant.name}: ${invariant.violations} — ${JSON.stringify(invariant.examples[0]).slice(0, 600)}`),
    ).toEqual([]);
  });
});

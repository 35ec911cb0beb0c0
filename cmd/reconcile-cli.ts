/**
 * `certflow reconcile`: after Postgres was restored from a backup (docs/operations.md §11), finds
 * and repairs every difference between the database and the lifecycle workflows
 * (activities/reconcile.ts). Runs where the worker runs, with the worker's configuration: it talks
 * to Postgres, to Temporal and opens the CA keys (KEK) to publish CRLs and OCSP responses.
 */
import { Client, Connection } from '@temporalio/client';
import { parseArgs } from 'node:util';
import { DestinationGuard } from '../activities/destination-guard.js';
import { IssuerStore } from '../activities/issuer-store.js';
import { reconcilePlatform, type ReconcileReport } from '../activities/reconcile.js';
import { createDatabase } from '../db/database.js';
import { createPool } from '../db/postgres-pool.js';
import { readCheckpoints } from './audit-cli.js';
import { loadAuditKey } from './audit-key.js';
import { ConfigError, loadConfig } from './config.js';
import { platformDestinationRules } from './destination-rules.js';
import { openConfiguredHsm } from './hsm.js';
import { loadKekRing } from './kek.js';

export const RECONCILE_USAGE = `usage: certflow reconcile [--checkpoints <file>] [--json]
  after Postgres was restored from a backup: compares every certificate with its lifecycle
  workflow and repairs each difference (versions recovered from the workflows' histories, never
  signed again; revocations recorded again and published; certificates requested after the
  backup recovered and revoked; lifecycles restarted; the audit log's restore recorded).
  Safe to run again: a second run finds nothing.
  --checkpoints <file>   audit checkpoint copies kept outside the database (default: the worker's
                         CERTFLOW_AUDIT_CHECKPOINT_FILE, when it exists)
  --json                 print the report as JSON
  needs the worker's configuration: DATABASE_URL, TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
  CERTFLOW_TASK_QUEUE, CERTFLOW_KEK, CERTFLOW_AUDIT_KEY
exit codes: 0 consistent (nothing found, or everything found repaired), 2 something needs an
  operator (alerts in the report), 1 error`;

export interface ReconcileCliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  env: NodeJS.ProcessEnv;
}

export async function runReconcileCli(args: string[], io: ReconcileCliIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args, options: { checkpoints: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' } }, strict: true }));
  } catch (error) {
    io.err(`error: ${(error as Error).message}\n\n${RECONCILE_USAGE}`);
    return 1;
  }
  if (values.help) {
    io.out(RECONCILE_USAGE);
    return 0;
  }
  try {
    const config = loadConfig(io.env);
    if (!config.databaseUrl || !config.temporalAddress) {
      io.err('error: DATABASE_URL and TEMPORAL_ADDRESS are required');
      return 1;
    }
    const external = await readCheckpoints(values.checkpoints ?? config.auditCheckpointFile, values.checkpoints !== undefined);
    const pool = createPool(config.databaseUrl, io.err, 4);
    const connection = await Connection.connect({ address: config.temporalAddress });
    const hsm = await openConfiguredHsm(config.signer, () => undefined);
    try {
      const db = createDatabase(pool, { auditKey: await loadAuditKey(config, io.err) });
      const kek = await loadKekRing(config, io.err);
      const report = await reconcilePlatform(
        {
          db,
          kek,
          issuers: new IssuerStore(db, kek, config.publicUrl, undefined, hsm),
          ...(hsm ? { hsm } : {}),
          now: () => new Date(),
          fileDestinationRoot: config.fileDestinationRoot,
          destinationGuard: new DestinationGuard(platformDestinationRules({ ...config, databaseUrl: config.databaseUrl, temporalAddress: config.temporalAddress })),
          temporal: new Client({ connection, namespace: config.temporalNamespace }),
        },
        { taskQueue: config.taskQueue, externalCheckpoints: external.checkpoints },
      );
      for (const line of values.json ? [JSON.stringify(report, null, 2)] : formatReport(report)) io.out(line);
      return report.findings.some((finding) => finding.action === 'alert') ? 2 : 0;
    } finally {
      hsm?.close();
      await connection.close();
      await pool.end();
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      io.err(`error: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

export function formatReport(report: ReconcileReport): string[] {
  const summary = `checked ${report.checked.certificates} certificates and ${report.checked.workflows} lifecycle workflows`;
  if (report.findings.length === 0) return [`reconcile: nothing to repair; ${summary}`];
  return [
    `reconcile: ${report.findings.length} finding${report.findings.length === 1 ? '' : 's'}; ${summary}`,
    ...report.findings.map((finding) => `  ${finding.action} ${finding.certificateId ?? '(platform)'}: ${finding.detail}`),
  ];
}

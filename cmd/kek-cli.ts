/**
 * `certflow kek <command>`: the KEK operations, run where the worker's KEK is (they read
 * CERTFLOW_KEK and talk to Postgres directly, never through the API, which holds no KEK).
 * `runKekCommand(args, io)` takes the arguments after `kek`; cmd/cli.ts wires it, tests drive it.
 */
import { parseArgs } from 'node:util';
import { workerSealingKey } from '../ca/destination-secrets.js';
import { kekId } from '../ca/key-encryption.js';
import { encodeSealingPublicKey } from '../ca/sealed-box.js';
import { appendAuditEvent } from '../db/audit.js';
import { createDatabase } from '../db/database.js';
import { rotateKek, type KekRotationReport, type RotationCounts } from '../db/kek-rotation.js';
import { createPool } from '../db/postgres-pool.js';
import { loadAuditKey } from './audit-key.js';
import { ConfigError, loadConfig } from './config.js';
import { loadKek, loadKekRing } from './kek.js';

export const KEK_USAGE = `usage: certflow kek <command>
  public-key             prints the worker's sealing public key derived from CERTFLOW_KEK: the
                         value of the API's CERTFLOW_SEALING_PUBLIC_KEY
  rotate [options]       re-seals every issuer key, certificate key and webhook secret under
                         CERTFLOW_KEK, opening them with CERTFLOW_KEK or CERTFLOW_KEK_PREVIOUS
                         (the old KEK); safe to interrupt and to run again (DATABASE_URL)
    --batch-size <n>     rows per transaction (default 200)
    --limit <n>          re-seal at most n blobs, then stop (run again to continue)
    --json               print the report as JSON
exit codes: 0 done (everything under CERTFLOW_KEK), 3 not finished (limit reached; run again),
  1 error, or blobs no configured KEK opens`;

export interface KekCliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  env: NodeJS.ProcessEnv;
}

export async function runKekCommand(args: string[], io: KekCliIo): Promise<number> {
  try {
    const [command, ...rest] = args;
    if (command === 'public-key') return await printPublicKey(io);
    if (command === 'rotate') return await rotate(rest, io);
    io.err(command && command !== 'help' ? `error: unknown kek command "${command}"\n\n${KEK_USAGE}` : KEK_USAGE);
    return command === 'help' ? 0 : 1;
  } catch (error) {
    if (error instanceof ConfigError || (error instanceof TypeError && 'code' in error)) {
      io.err(`error: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

async function printPublicKey(io: KekCliIo): Promise<number> {
  const config = loadConfig(io.env);
  io.out(encodeSealingPublicKey(workerSealingKey(await loadKek(config, io.err)).publicKey));
  return 0;
}

async function rotate(args: string[], io: KekCliIo): Promise<number> {
  const { values } = parseArgs({ args, options: { 'batch-size': { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' } }, strict: true });
  const batchSize = positiveInteger(values['batch-size'], '--batch-size');
  const limit = positiveInteger(values.limit, '--limit');
  const config = loadConfig(io.env);
  if (!config.databaseUrl) throw new ConfigError('DATABASE_URL is required for kek rotate');
  const ring = await loadKekRing(config, io.err);
  if (ring.previous.length === 0) io.err('note: CERTFLOW_KEK_PREVIOUS is not set: only blobs the current KEK opens (older formats) are re-sealed');
  const pool = createPool(config.databaseUrl, io.err, 2);
  try {
    const db = createDatabase(pool, { auditKey: await loadAuditKey(config, io.err) });
    const started = Date.now();
    const report = await rotateKek(db, ring, { ...(batchSize ? { batchSize } : {}), ...(limit ? { limit } : {}) });
    await appendAuditEvent(db, {
      at: new Date(),
      actor: 'system',
      action: 'kek.rotated',
      details: {
        kekId: report.kekId,
        previousKekIds: ring.previous.map(kekId),
        issuerKeys: report.issuerKeys,
        certificateKeys: report.certificateKeys,
        webhookSecrets: report.webhookSecrets,
        clusterTokens: report.clusterTokens,
        contactSecrets: report.contactSecrets,
        failed: report.failures.length,
        remaining: report.remaining,
        complete: report.complete,
      },
    });
    if (values.json) io.out(JSON.stringify(report, null, 2));
    else for (const line of formatReport(report, Date.now() - started)) io.out(line);
    if (report.failures.length > 0) return 1;
    return report.complete ? 0 : 3;
  } finally {
    await pool.end();
  }
}

function formatReport(report: KekRotationReport, elapsedMs: number): string[] {
  const row = (what: string, counts: RotationCounts) =>
    `  ${what.padEnd(18)} re-sealed ${counts.resealed}, already current ${counts.current}${counts.skipped ? `, no sealed key ${counts.skipped}` : ''}${counts.failed ? `, FAILED ${counts.failed}` : ''}`;
  return [
    `KEK rotation to ${report.kekId} (${(elapsedMs / 1000).toFixed(1)} s)`,
    row('issuer keys', report.issuerKeys),
    row('certificate keys', report.certificateKeys),
    row('webhook secrets', report.webhookSecrets),
    row('cluster tokens', report.clusterTokens),
    row('contact secrets', report.contactSecrets),
    ...report.failures.map((failure) => `  cannot open: ${failure}`),
    report.complete
      ? 'done: everything is sealed under the current KEK; CERTFLOW_KEK_PREVIOUS may be removed from the worker'
      : `not finished: ${report.remaining} blob(s) not yet under the current KEK; keep CERTFLOW_KEK_PREVIOUS and run again`,
  ];
}

function positiveInteger(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[1-9]\d{0,8}$/.test(value)) throw new ConfigError(`${flag} must be a positive integer`);
  return Number(value);
}

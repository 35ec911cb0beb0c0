/**
 * `certflow audit verify [--checkpoints <file>]`: reads the whole audit log and its checkpoints from
 * Postgres (DATABASE_URL) and checks them with the audit key (CERTFLOW_AUDIT_KEY, or the dev key
 * file); prints OK with counts, or each changed, removed or reordered row by its seq. Unlike the
 * other commands it talks to the database, not the API: an auditor checks what is stored.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import type { AuditCheckpoint, AuditVerification } from '../db/audit-chain.js';
import { verifyAuditLogIn } from '../db/audit.js';
import { createDatabase } from '../db/database.js';
import { createPool } from '../db/postgres-pool.js';
import { loadAuditKey } from './audit-key.js';
import { loadConfig } from './config.js';

export const AUDIT_USAGE = `usage: certflow audit verify [--checkpoints <file>]
  checks every row of the audit log (hash, MAC, order) and every checkpoint, and names each row
  that was changed, removed or reordered
  --checkpoints <file>   checkpoint copies kept outside the database (JSON lines; default: the
                         worker's CERTFLOW_AUDIT_CHECKPOINT_FILE, when it exists)
  needs DATABASE_URL and CERTFLOW_AUDIT_KEY (dev mode: the key file in CERTFLOW_DATA_DIR)
exit codes: 0 the log holds, 2 the log was tampered with, 1 error`;

export const EXIT_AUDIT_OK = 0;
export const EXIT_AUDIT_ERROR = 1;
export const EXIT_AUDIT_TAMPERED = 2;

export interface AuditCliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  env: Record<string, string | undefined>;
}

const checkpointLine = z.object({ seq: z.number().int().positive(), hash: z.string().regex(/^[0-9a-f]{64}$/), at: z.iso.datetime(), mac: z.string().regex(/^[0-9a-f]{64}$/) });

export async function runAuditCli(args: string[], io: AuditCliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { checkpoints: { type: 'string' }, help: { type: 'boolean' } } });
  } catch (error) {
    io.err(`error: ${(error as Error).message}\n\n${AUDIT_USAGE}`);
    return EXIT_AUDIT_ERROR;
  }
  if (parsed.values.help) {
    io.out(AUDIT_USAGE);
    return EXIT_AUDIT_OK;
  }
  if (parsed.positionals.length !== 1 || parsed.positionals[0] !== 'verify') {
    io.err(`error: unknown audit command ${JSON.stringify(parsed.positionals.join(' '))}\n\n${AUDIT_USAGE}`);
    return EXIT_AUDIT_ERROR;
  }
  const config = loadConfig(io.env as NodeJS.ProcessEnv);
  if (!config.databaseUrl) {
    io.err('error: DATABASE_URL is required');
    return EXIT_AUDIT_ERROR;
  }
  const explicitFile = parsed.values.checkpoints;
  const external = await readCheckpoints(explicitFile ?? config.auditCheckpointFile, explicitFile !== undefined);
  const pool = createPool(config.databaseUrl, io.err, 2);
  try {
    const db = createDatabase(pool, { auditKey: await loadAuditKey(config, io.err) });
    const verification = await verifyAuditLogIn(db, external.checkpoints);
    for (const line of formatVerification(verification, external)) (verification.ok ? io.out : io.err)(line);
    return verification.ok ? EXIT_AUDIT_OK : EXIT_AUDIT_TAMPERED;
  } finally {
    await pool.end();
  }
}

export async function readCheckpoints(path: string, required: boolean): Promise<{ path: string | null; checkpoints: AuditCheckpoint[] }> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' && !required) return null;
    throw error;
  });
  if (text === null) return { path: null, checkpoints: [] };
  const checkpoints = text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, index) => {
      const result = checkpointLine.safeParse(JSON.parse(line));
      if (!result.success) throw new Error(`${path}:${index + 1}: not a checkpoint: ${result.error.issues[0]?.message}`);
      return { ...result.data, at: new Date(result.data.at) };
    });
  return { path, checkpoints };
}

/** The report: one summary line, then one line per problem (`<kind> row <seq>: <message>`). */
export function formatVerification(verification: AuditVerification, external: { path: string | null; checkpoints: readonly unknown[] }): string[] {
  const counts = [
    `${verification.rows} rows${verification.legacyRows > 0 ? ` (${verification.legacyRows} written before keyed sealing)` : ''}`,
    `head row ${verification.headSeq ?? 'none'}`,
    `${verification.checkpoints} checkpoints${verification.checkpointSeq === null ? '' : ` (newest names row ${verification.checkpointSeq})`}`,
    external.path ? `${external.checkpoints.length} of them from ${external.path}` : 'no checkpoint file',
  ].join(', ');
  const restores = verification.restores.map((restore) => `  restored row ${restore.checkpointSeq}: ${restore.message}`);
  if (verification.ok) return [`audit log OK: ${counts}${restores.length > 0 ? `; ${restores.length} restore${restores.length === 1 ? '' : 's'} from a backup` : ''}`, ...restores];
  return [
    `audit log FAILED: ${verification.problems.length} problem${verification.problems.length === 1 ? '' : 's'}; ${counts}`,
    ...verification.problems.map((problem) => `  ${problem.kind} row ${problem.seq}: ${problem.message}`),
    ...restores,
  ];
}

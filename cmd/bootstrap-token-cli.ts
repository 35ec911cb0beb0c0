/**
 * `certflow token rotate-bootstrap`: gives the bootstrap (platform admin) token a new secret and
 * prints it once; the old secret stops working at once. It also re-enables a revoked bootstrap
 * token, so it is a break-glass step for an operator with database access (DATABASE_URL), not an
 * API call: no API token can do it. Recorded in the audit log (actor `cli`).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { appendAuditEvent } from '../db/audit.js';
import { createDatabase } from '../db/database.js';
import { applyMigrations } from '../db/migrate.js';
import { createPool } from '../db/postgres-pool.js';
import { BOOTSTRAP_PRINCIPAL_ID } from '../db/principals.js';
import { BOOTSTRAP_TOKEN_ID, rotateBootstrapToken } from '../db/tokens.js';
import { loadAuditKey } from './audit-key.js';
import { loadConfig } from './config.js';

export const TOKEN_USAGE = `usage: certflow token rotate-bootstrap
  gives the bootstrap admin token a new secret (re-enabling it if it was revoked) and prints it once;
  needs DATABASE_URL (run it where the API runs); in dev mode also updates <data dir>/bootstrap-token`;

export async function runTokenCli(args: string[], io: { out: (line: string) => void; err: (line: string) => void; env: NodeJS.ProcessEnv }): Promise<number> {
  if (args.length !== 1 || args[0] !== 'rotate-bootstrap') {
    io.err(TOKEN_USAGE);
    return 1;
  }
  const config = loadConfig(io.env);
  if (!config.databaseUrl) {
    io.err('error: DATABASE_URL is required: rotating the bootstrap token is done on the database, by an operator');
    return 1;
  }
  const pool = createPool(config.databaseUrl, () => undefined);
  try {
    await applyMigrations(pool, { appRole: config.dbAppRole });
    const db = createDatabase(pool, { auditKey: await loadAuditKey(config, io.err) });
    const token = await rotateBootstrapToken(db);
    await appendAuditEvent(db, { at: new Date(), actor: 'cli', action: 'token.bootstrap_rotated', teamId: null, details: { tokenId: BOOTSTRAP_TOKEN_ID, principalId: BOOTSTRAP_PRINCIPAL_ID } });
    if (!config.production && !config.bootstrapToken) await updateDevTokenFile(join(config.dataDir, 'bootstrap-token'), token);
    io.out(token);
    io.err('the previous bootstrap token no longer works; CERTFLOW_BOOTSTRAP_TOKEN is not used again once the token exists');
    return 0;
  } finally {
    await pool.end();
  }
}

/** Dev mode keeps the bootstrap token in a file that `npm run dev` prints; keep it current if it is there. */
async function updateDevTokenFile(path: string, token: string): Promise<void> {
  const existing = await readFile(path, 'utf8').catch(() => null);
  if (existing !== null) await writeFile(path, `${token}\n`, { mode: 0o600 });
}

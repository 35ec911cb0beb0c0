/**
 * Applies the committed SQL migrations. API and worker both call this at start-up; a Postgres
 * advisory lock makes concurrent starts apply them once.
 */
import { fileURLToPath } from 'node:url';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { drizzle } from 'drizzle-orm/node-postgres';
import type pg from 'pg';

const MIGRATIONS_FOLDER = fileURLToPath(new URL('./migrations', import.meta.url));
const MIGRATION_LOCK_ID = 727_001;

/** The audit tables: append-only (migration 0010 adds the triggers; `appRole` loses the privileges too). */
const AUDIT_TABLES = ['audit_events', 'audit_checkpoints'];

/**
 * `appRole` (CERTFLOW_DB_APP_ROLE): the role the API and worker connect as, when migrations run as
 * another (the tables' owner). It may read and append to the audit tables, never change them.
 */
export async function applyMigrations(pool: pg.Pool, options: { appRole?: string } = {}): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    try {
      await migrate(drizzle(client), { migrationsFolder: MIGRATIONS_FOLDER });
      if (options.appRole) await client.query(auditGrantsSql(options.appRole));
    } finally {
      await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]);
    }
  } finally {
    client.release();
  }
}

/** GRANT SELECT, INSERT and REVOKE UPDATE, DELETE, TRUNCATE on the audit tables for `role`. */
export function auditGrantsSql(role: string): string {
  const quoted = `"${role.replaceAll('"', '""')}"`;
  const tables = AUDIT_TABLES.map((table) => `"${table}"`).join(', ');
  return `GRANT SELECT, INSERT ON ${tables} TO ${quoted}; REVOKE UPDATE, DELETE, TRUNCATE ON ${tables} FROM ${quoted};`;
}

import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import type { AuditKey } from './audit-chain.js';
import * as schema from './schema.js';

/**
 * The database handle. It carries the audit key (db/audit.ts seals every audit row with it), so
 * whoever appends an event with `appendAuditEvent(db, event)` needs nothing else; the key itself
 * never goes into the database.
 */
export type Database = NodePgDatabase<typeof schema> & { readonly auditKey?: AuditKey };
/** A database handle or an open transaction on it; repositories accept either. */
export type Queryable = Pick<Database, 'select' | 'insert' | 'update' | 'delete' | 'execute'>;

export function createDatabase(pool: pg.Pool, options: { auditKey?: AuditKey } = {}): Database {
  return Object.assign(drizzle(pool, { schema }), { auditKey: options.auditKey });
}

/** The pool a database handle runs on (createDatabase's `pool`). */
export function poolOf(db: Database): pg.Pool {
  return (db as unknown as { $client: pg.Pool }).$client;
}

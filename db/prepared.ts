/**
 * Named prepared statements for the lookups every ACME request and every issuance makes (by primary
 * key, mostly). drizzle builds the SQL of a prepared query once instead of on every call (its query
 * building was ~12 % of the ACME API's CPU), and node-postgres prepares a named statement once per
 * connection, so Postgres skips parsing and planning it again.
 *
 * Only on the pool's handle: a transaction runs its statements the ordinary way (a prepared query is
 * bound to the session it was built on, and a transaction's session lives for one transaction).
 */
import type { Database, Queryable } from './database.js';

const statements = new WeakMap<object, Map<string, unknown>>();

/** The statement `name` prepared on `db` (built by `build` the first time), or null when `db` is a transaction. */
export function prepared<T>(db: Queryable, name: string, build: (db: Database) => T): T | null {
  if (!('$client' in db)) return null;
  let byName = statements.get(db);
  if (!byName) statements.set(db, (byName = new Map()));
  let statement = byName.get(name) as T | undefined;
  if (statement === undefined) byName.set(name, (statement = build(db as unknown as Database)));
  return statement;
}

import pg from 'pg';

/** The one place a Postgres pool is created. Errors on idle clients are logged, not fatal. */
export function createPool(connectionString: string, log: (message: string) => void, max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString, max, connectionTimeoutMillis: 10_000 });
  pool.on('error', (error) => log(`postgres: idle client error: ${error.message}`));
  return pool;
}

/**
 * Postgres outages for integration tests, on the run's shared embedded Postgres, undone by `end()`:
 *
 * - `unresponsive`: SIGSTOP of the postmaster and every backend. Connections stay open and queries
 *   hang (no error) until SIGCONT — what a frozen host or a network partition looks like.
 * - `refusing`: every backend of the database terminated and the database closed to connections
 *   (ALLOW_CONNECTIONS false), so queries in flight fail and new connections are refused at once —
 *   what a restart or a failover looks like. Held through a control connection to `postgres`.
 */
import { readdir, readFile } from 'node:fs/promises';
import pg from 'pg';

export interface PostgresOutage {
  /** Ends the outage (idempotent). */
  end(): Promise<void>;
}

/** The postmaster's pid: the parent of a backend of ours. */
async function postmasterPid(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
  return parentPid(rows[0]!.pid);
}

async function parentPid(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command (which may contain spaces) in parentheses: state, ppid, ...
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

async function childrenOf(parent: number): Promise<number[]> {
  const children: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (await parentPid(pid).then((ppid) => ppid === parent, () => false)) children.push(pid);
  }
  return children;
}

/** SIGSTOP of the postmaster and all its children (backends, background workers). */
export async function makePostgresUnresponsive(databaseUrl: string): Promise<PostgresOutage> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const postmaster = await postmasterPid(client);
  await client.end();
  process.kill(postmaster, 'SIGSTOP');
  const stopped = [postmaster];
  for (const child of await childrenOf(postmaster)) {
    process.kill(child, 'SIGSTOP');
    stopped.push(child);
  }
  let ended = false;
  return {
    async end() {
      if (ended) return;
      ended = true;
      for (const pid of stopped.reverse()) {
        try {
          process.kill(pid, 'SIGCONT');
        } catch {
          // Exited meanwhile.
        }
      }
    },
  };
}

/** Terminates every connection to the URL's database and refuses new ones until `end()`. */
export async function makePostgresRefuseConnections(databaseUrl: string): Promise<PostgresOutage> {
  const url = new URL(databaseUrl);
  const database = decodeURIComponent(url.pathname.slice(1));
  url.pathname = '/postgres';
  const control = new pg.Client({ connectionString: url.toString() });
  await control.connect();
  const quoted = `"${database.replaceAll('"', '""')}"`;
  await control.query(`alter database ${quoted} allow_connections false`);
  await control.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [database]);
  let ended = false;
  return {
    async end() {
      if (ended) return;
      ended = true;
      await control.query(`alter database ${quoted} allow_connections true`);
      await control.end();
    },
  };
}

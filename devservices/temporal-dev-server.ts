/**
 * Starts and stops a real Temporal dev server (`temporal server start-dev`) backed by a SQLite file, for local
 * development and integration tests. Restarting on the same dbFile keeps workflows and search attributes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import readline from 'node:readline';
import { Connection } from '@temporalio/client';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { SEARCH_ATTRIBUTES } from '../core/search-attributes.js';
import { findFreePort } from './free-port.js';
import { resolveTemporalCli } from './temporal-cli.js';

export interface TemporalDevServer {
  address: string;
  namespace: string;
  uiUrl: string | null;
  pid: number | null;
  stop(): Promise<void>;
  /** SIGKILL, for outage tests. */
  kill(): Promise<void>;
}

export interface StartTemporalDevServerOptions {
  dbFile: string;
  /** 0 or undefined = pick a free port. */
  port?: number;
  /** null = no UI; 0 or undefined = pick a free port. */
  uiPort?: number | null;
  /** Default 'default'. */
  namespace?: string;
  log?: (message: string) => void;
  env?: NodeJS.ProcessEnv;
}

/**
 * WAL with synchronous=NORMAL: a commit no longer waits for an fsync (the dev server's one SQLite
 * writer was spending its time in fsync under load); the database stays consistent, and a killed
 * server process loses nothing (the WAL is in the OS page cache). Only an OS crash or power loss can
 * drop the last commits; use a real Temporal cluster where that matters.
 */
const SQLITE_PRAGMAS = ['--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal'];

export type SearchAttributeTypeName = 'Text' | 'Keyword' | 'Int' | 'Double' | 'Bool' | 'Datetime' | 'KeywordList';

// temporal.api.enums.v1.IndexedValueType wire values.
const INDEXED_VALUE_TYPES: Record<SearchAttributeTypeName, number> = {
  Text: 1,
  Keyword: 2,
  Int: 3,
  Double: 4,
  Bool: 5,
  Datetime: 6,
  KeywordList: 7,
};

const SDK_SEARCH_ATTRIBUTE_TYPES: Record<SearchAttributeTypeName, SearchAttributeType> = {
  Text: SearchAttributeType.TEXT,
  Keyword: SearchAttributeType.KEYWORD,
  Int: SearchAttributeType.INT,
  Double: SearchAttributeType.DOUBLE,
  Bool: SearchAttributeType.BOOL,
  Datetime: SearchAttributeType.DATETIME,
  KeywordList: SearchAttributeType.KEYWORD_LIST,
};

const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 10_000;
const OUTPUT_TAIL_LINES = 40;

export async function startTemporalDevServer(opts: StartTemporalDevServerOptions): Promise<TemporalDevServer> {
  const log = opts.log ?? (() => {});
  const namespace = opts.namespace ?? 'default';
  const dbFile = path.resolve(opts.dbFile);
  await fs.mkdir(path.dirname(dbFile), { recursive: true });
  const port = opts.port || (await findFreePort());
  const uiPort = opts.uiPort === null ? null : opts.uiPort || (await findFreePort());

  const cli = await resolveTemporalCli({ env: opts.env, log });
  const params: ServerParams = { dbFile, port, uiPort, namespace, log, env: opts.env ?? process.env };
  const server = cli ? await startCliServer(cli, params) : await startSdkServer(params);
  log(`Temporal dev server ready at ${server.address} (namespace ${namespace}, db ${dbFile})`);
  return server;
}

/** Custom search attributes of a namespace, by name, with CLI-style type names ('Keyword', 'Datetime', ...). */
export async function listCustomSearchAttributes(
  connection: Connection,
  namespace: string,
): Promise<Record<string, SearchAttributeTypeName | 'Unspecified'>> {
  const response = await connection.operatorService.listSearchAttributes({ namespace });
  const byValue = new Map(
    Object.entries(INDEXED_VALUE_TYPES).map(([name, value]) => [value, name as SearchAttributeTypeName]),
  );
  const result: Record<string, SearchAttributeTypeName | 'Unspecified'> = {};
  for (const [name, value] of Object.entries(response.customAttributes ?? {})) {
    result[name] = byValue.get(value) ?? 'Unspecified';
  }
  return result;
}

interface ServerParams {
  dbFile: string;
  port: number;
  uiPort: number | null;
  namespace: string;
  log: (message: string) => void;
  env: NodeJS.ProcessEnv;
}

async function startCliServer(cli: string, params: ServerParams): Promise<TemporalDevServer> {
  const { dbFile, port, uiPort, namespace, log, env } = params;
  const address = `127.0.0.1:${port}`;
  const args = [
    'server', 'start-dev',
    '--ip', '127.0.0.1',
    '--port', String(port),
    '--db-filename', dbFile,
    ...SQLITE_PRAGMAS,
    '--log-level', 'warn',
    // "default" is always created; passing it as well is redundant.
    ...(namespace === 'default' ? [] : ['--namespace', namespace]),
    ...Object.entries(SEARCH_ATTRIBUTES).flatMap(([name, type]) => ['--search-attribute', `${name}=${type}`]),
    ...(uiPort === null ? ['--headless'] : ['--ui-ip', '127.0.0.1', '--ui-port', String(uiPort)]),
    // --metrics-port and --http-port default to random free ports on --ip, so parallel servers don't collide.
  ];
  log(`Starting ${cli} ${args.join(' ')}`);
  const startedAt = Date.now();
  const child = spawn(cli, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const outputTail: string[] = [];
  const onLine = (line: string) => {
    log(`[temporal] ${line}`);
    outputTail.push(line);
    if (outputTail.length > OUTPUT_TAIL_LINES) outputTail.shift();
  };
  readline.createInterface({ input: child.stdout }).on('line', onLine);
  readline.createInterface({ input: child.stderr }).on('line', onLine);
  const exited = new Promise<string>((resolve) => {
    child.once('error', (error) => resolve(`failed to spawn: ${error.message}`));
    child.once('exit', (code, signal) => resolve(`exit code ${code ?? signal}`));
  });
  // Don't leave an orphaned server behind if this process exits without calling stop().
  const stopOnParentExit = () => child.kill('SIGTERM');
  process.once('exit', stopOnParentExit);

  const terminate = async (signal: NodeJS.Signals) => {
    process.removeListener('exit', stopOnParentExit);
    await terminateChild(child, exited, signal);
  };

  const startupAborted = new AbortController();
  void exited.then(() => startupAborted.abort());
  const ready = waitForFrontend(address, namespace, startupAborted.signal);
  try {
    const connection = await Promise.race([
      ready,
      exited.then((how) => {
        throw new Error(`Temporal dev server exited during start-up (${how}):\n${outputTail.join('\n')}`);
      }),
    ]);
    try {
      await ensureSearchAttributes(connection, namespace, log);
    } finally {
      await connection.close();
    }
  } catch (error) {
    void ready.then((connection) => connection.close(), () => {}); // in case it lost the race to the exit
    await terminate('SIGKILL');
    if (error instanceof Error && !error.message.includes('\n')) {
      error.message += `\nLast dev server output:\n${outputTail.join('\n')}`;
    }
    throw error;
  }
  log(`Temporal dev server (pid ${child.pid}) started in ${Date.now() - startedAt} ms`);

  let stopping: Promise<void> | undefined;
  return {
    address,
    namespace,
    uiUrl: uiPort === null ? null : `http://127.0.0.1:${uiPort}`,
    pid: child.pid ?? null,
    stop: () => (stopping ??= terminate('SIGTERM')),
    kill: () => (stopping ??= terminate('SIGKILL')),
  };
}

/** Retries until the frontend answers and the namespace exists; returns an open connection. */
async function waitForFrontend(address: string, namespace: string, abort: AbortSignal): Promise<Connection> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (abort.aborted) throw new Error(`gave up waiting for ${address}: server process exited`);
    let connection: Connection | undefined;
    try {
      connection = await Connection.connect({ address, connectTimeout: 2_000 });
      await connection.workflowService.getSystemInfo({});
      await connection.workflowService.describeNamespace({ namespace });
      return connection;
    } catch (error) {
      await connection?.close().catch(() => {});
      if (Date.now() > deadline) {
        throw new Error(`Temporal dev server at ${address} not ready after ${READY_TIMEOUT_MS} ms: ${String(error)}`);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * Registers the attributes of core/search-attributes.ts the namespace lacks. The dev server registers
 * --search-attribute only when it creates the namespace, i.e. on a fresh dbFile; an existing dbFile keeps its
 * attributes, so attributes added later are registered here. The cluster topology registers all of them here.
 */
export async function ensureSearchAttributes(connection: Connection, namespace: string, log: (m: string) => void) {
  const registered = await listCustomSearchAttributes(connection, namespace);
  const missing: Record<string, number> = {};
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) {
    const current = registered[name];
    if (current === undefined) {
      missing[name] = INDEXED_VALUE_TYPES[type];
    } else if (current !== type) {
      throw new Error(
        `Search attribute ${name} is registered as ${current} in namespace ${namespace}, but ` +
          `core/search-attributes.ts declares ${type}. Types cannot be changed; start with a fresh dbFile.`,
      );
    }
  }
  if (Object.keys(missing).length === 0) return;
  log(`Registering search attributes missing from the existing database: ${Object.keys(missing).join(', ')}`);
  await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: missing });
}

async function terminateChild(child: ChildProcess, exited: Promise<unknown>, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  if (signal === 'SIGKILL') {
    await exited;
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    exited.then(() => false),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), STOP_GRACE_MS);
    }),
  ]);
  clearTimeout(timer);
  if (timedOut) {
    child.kill('SIGKILL');
    await exited;
  }
}

/** Fallback when there is no CLI binary and no Go: the SDK downloads a dev server binary itself. */
async function startSdkServer(params: ServerParams): Promise<TemporalDevServer> {
  const { dbFile, port, uiPort, namespace, log } = params;
  log('No Temporal CLI available; falling back to the dev server downloaded by @temporalio/testing');
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  const startedAt = Date.now();
  const testEnv = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'cached-download' },
      ip: '127.0.0.1',
      port,
      dbFilename: dbFile,
      namespace,
      searchAttributes: Object.entries(SEARCH_ATTRIBUTES).map(([name, type]) =>
        defineSearchAttributeKey(name, SDK_SEARCH_ATTRIBUTE_TYPES[type]),
      ),
      ui: uiPort !== null,
      ...(uiPort === null ? {} : { uiPort }),
      extraArgs: [...SQLITE_PRAGMAS, ...(uiPort === null ? [] : ['--ui-ip', '127.0.0.1'])],
    },
  });
  try {
    await ensureSearchAttributes(testEnv.connection, namespace, log);
  } catch (error) {
    await testEnv.teardown();
    throw error;
  }
  // The SDK does not expose the server's pid; find it through the listening socket (Linux only).
  const pid = await findListeningPid(port);
  log(`Temporal dev server (SDK download, pid ${pid ?? 'unknown'}) started in ${Date.now() - startedAt} ms`);

  let stopping: Promise<void> | undefined;
  const kill = async () => {
    if (pid !== null) {
      process.kill(pid, 'SIGKILL');
      // Not reaped until teardown, so wait for the zombie state rather than for the pid to disappear.
      while (await isRunning(pid)) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await testEnv.teardown();
  };
  return {
    address: testEnv.address,
    namespace,
    uiUrl: uiPort === null ? null : `http://127.0.0.1:${uiPort}`,
    pid,
    stop: () => (stopping ??= testEnv.teardown()),
    kill: () => (stopping ??= kill()),
  };
}

async function findListeningPid(port: number): Promise<number | null> {
  let table: string;
  try {
    table = await fs.readFile('/proc/net/tcp', 'utf8');
  } catch {
    return null;
  }
  const portSuffix = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const LISTEN = '0A';
  const inodes = new Set<string>();
  for (const line of table.split('\n').slice(1)) {
    const [, localAddress, , state, , , , , , inode] = line.trim().split(/\s+/);
    if (localAddress?.endsWith(portSuffix) && state === LISTEN && inode) inodes.add(inode);
  }
  if (inodes.size === 0) return null;
  for (const entry of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fds = await fs.readdir(`/proc/${entry}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      const target = await fs.readlink(`/proc/${entry}/fd/${fd}`).catch(() => '');
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode && inodes.has(inode)) return Number(entry);
    }
  }
  return null;
}

async function isRunning(pid: number): Promise<boolean> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  return stat !== null && stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

/**
 * The fault suite's own services, each restartable: an embedded Postgres (stopped with
 * `pg_ctl stop -m immediate` and started again on the same data dir and port), a Temporal dev
 * server (SIGKILLed and started again on its SQLite file and port), and the fault worker as a child
 * process (SIGKILLed and replaced; restarted too if it exits by itself).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../devservices/embedded-postgres.js';
import { findFreePort } from '../../devservices/free-port.js';
import { startTemporalDevServer, type TemporalDevServer } from '../../devservices/temporal-dev-server.js';
import { startTemporalOnPostgres, type TemporalOnPostgres } from '../../devservices/temporal-on-postgres.js';

const run = promisify(execFile);
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class RestartablePostgres {
  private handle!: EmbeddedPostgresHandle;
  port = 0;
  constructor(
    readonly dataDir: string,
    private readonly log: (message: string) => void,
  ) {}

  get url(): string {
    return this.handle.url;
  }

  async start(): Promise<void> {
    this.handle = await startEmbeddedPostgres({ dataDir: this.dataDir, port: this.port || undefined, log: this.log });
    this.port = this.handle.port;
  }

  /** `pg_ctl stop -m immediate`: every backend quits without a checkpoint; the restart does crash recovery. */
  async stopImmediately(): Promise<void> {
    // The binaries embedded-postgres runs (this platform's package exports their paths).
    const { pg_ctl: pgCtl } = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as { pg_ctl: string };
    // The cluster's actual directory: as root it may live elsewhere (devservices/embedded-postgres.ts, rootDataHome).
    const args = ['stop', '-D', this.handle?.dataDir ?? this.dataDir, '-m', 'immediate', '-w', '-t', '30'];
    // Postgres runs as user postgres when we are root (devservices/embedded-postgres.ts); so must pg_ctl.
    if (process.getuid?.() === 0) await run('runuser', ['-u', 'postgres', '--', pgCtl, ...args]);
    else await run(pgCtl, args);
  }

  async stop(): Promise<void> {
    await this.handle?.stop();
  }
}

/**
 * The run's Temporal: a dev server on `dir`/temporal.db, or with `onPostgres` (CERTFLOW_IT_TOPOLOGY=postgres) the
 * Temporal server on the run's Postgres (its own databases there), so the Postgres outages hit Temporal too.
 */
export class RestartableTemporal {
  private server!: TemporalDevServer;
  private serverOnPostgres: TemporalOnPostgres | undefined;
  port = 0;
  constructor(
    readonly dir: string,
    private readonly log: (message: string) => void,
    private readonly onPostgres?: () => string,
  ) {}

  get address(): string {
    return this.serverOnPostgres?.address ?? `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.onPostgres) {
      if (this.serverOnPostgres) await this.serverOnPostgres.start();
      else this.serverOnPostgres = await startTemporalOnPostgres({ databaseUrl: this.onPostgres(), dir: this.dir, log: this.log });
      return;
    }
    this.port ||= await findFreePort();
    this.server = await startTemporalDevServer({ dbFile: path.join(this.dir, 'temporal.db'), port: this.port, uiPort: null, log: this.log });
  }

  async kill(): Promise<void> {
    await (this.serverOnPostgres ?? this.server).kill();
  }

  async stop(): Promise<void> {
    await (this.serverOnPostgres ?? this.server)?.stop();
  }
}

export interface WorkerEnvironment {
  databaseUrl: () => string;
  temporalAddress: () => string;
  taskQueue: string;
  kekHex: string;
  auditKeyHex: string;
  publicUrl: string;
  deliveryRoot: string;
  signerLog: string;
  outputFile: string;
}

/**
 * Keeps one fault worker running: `replace()` SIGKILLs the current one and starts another; a worker
 * that exits by itself (e.g. cannot reach Postgres at start-up) is started again after a pause.
 */
export class WorkerSupervisor {
  private child: ChildProcess | null = null;
  private readonly output: WriteStream;
  private stopping = false;
  private failureRate = 0;
  /** Exits nobody asked for (crashes, failed start-ups), and starts. */
  unexpectedExits = 0;
  starts = 0;

  constructor(private readonly env: WorkerEnvironment) {
    this.output = createWriteStream(env.outputFile, { flags: 'a' });
  }

  /** Starts a worker and waits until it polls (retrying start-ups that fail), at most `timeoutMs`. */
  async start(failureRate: number, timeoutMs = 180_000): Promise<void> {
    this.failureRate = failureRate;
    this.stopping = false;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await this.spawnOne();
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await sleep(1_000);
      }
    }
  }

  private spawnOne(): Promise<void> {
    const env = {
      ...process.env,
      DATABASE_URL: this.env.databaseUrl(),
      TEMPORAL_ADDRESS: this.env.temporalAddress(),
      TEMPORAL_NAMESPACE: 'default',
      CERTFLOW_TASK_QUEUE: this.env.taskQueue,
      CERTFLOW_KEK: this.env.kekHex,
      CERTFLOW_AUDIT_KEY: this.env.auditKeyHex,
      CERTFLOW_PUBLIC_URL: this.env.publicUrl,
      CERTFLOW_FILE_DESTINATION_ROOT: this.env.deliveryRoot,
      CERTFLOW_DATA_DIR: path.join(this.env.deliveryRoot, '.worker-data'),
      CERTFLOW_FAULTS_SIGNER_LOG: this.env.signerLog,
      CERTFLOW_FAULTS_SIGNER_FAILURE_RATE: String(this.failureRate),
    };
    this.starts += 1;
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/faults/fault-worker.ts'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let seen = '';
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      const onData = (chunk: Buffer) => {
        this.output.write(chunk);
        if (ready) return;
        seen = (seen + chunk.toString()).slice(-4_000);
        if (seen.includes('worker polling task queue')) {
          ready = true;
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code, signal) => {
        this.output.write(`--- worker ${child.pid} exited (code ${code}, signal ${signal})\n`);
        if (this.child === child) this.child = null;
        if (!ready) {
          this.unexpectedExits += 1;
          reject(new Error(`worker exited during start-up (code ${code}, signal ${signal}): ${seen.slice(-1_000)}`));
          return;
        }
        if (signal === 'SIGKILL' || this.stopping) return;
        // Not asked for: note it and keep a worker running.
        this.unexpectedExits += 1;
        void sleep(1_000).then(() => (this.stopping || this.child ? undefined : this.start(this.failureRate).catch(() => undefined)));
      });
    });
  }

  /** SIGKILL of the running worker, then a new one. Returns the pid killed, if any. */
  async replace(): Promise<number | null> {
    const pid = await this.kill('SIGKILL');
    await this.start(this.failureRate);
    return pid;
  }

  async kill(signal: NodeJS.Signals): Promise<number | null> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return null;
    if (signal !== 'SIGKILL') this.stopping = true;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
    return child.pid ?? null;
  }

  /** Graceful stop (SIGTERM: in-flight tasks finish), then no restarts. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.kill('SIGTERM');
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.output.end(resolve));
  }
}

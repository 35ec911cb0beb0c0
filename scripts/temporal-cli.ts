/**
 * Resolves the Temporal CLI binary used to run the local dev server (`temporal server start-dev`).
 *
 * Order: $TEMPORAL_CLI_PATH, a `temporal` on PATH, a cached build in the certflow cache dir, a fresh
 * `go install` into that cache dir. Returns null when none of these is possible; callers then fall back to the
 * binary the Temporal SDK downloads itself.
 *
 * Runnable as a script: `tsx scripts/temporal-cli.ts install` builds/resolves the CLI and prints its path.
 */
import { spawn } from 'node:child_process';
import { constants as fsConstants, realpathSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

export const TEMPORAL_CLI_VERSION = 'v1.5.1';

const CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';
// Same ldflags as the upstream release build: strip symbols (~250 MB -> ~210 MB) and stamp the version, which
// `go install` would otherwise report as 0.0.0-DEV.
const GO_LDFLAGS = `-ldflags=-s -w -X github.com/temporalio/cli/temporalcli.Version=${TEMPORAL_CLI_VERSION.slice(1)}`;
const LOCK_HEARTBEAT_MS = 15_000;
const LOCK_STALE_MS = 120_000;
const LOCK_POLL_MS = 1_000;

export interface ResolveTemporalCliOptions {
  env?: NodeJS.ProcessEnv;
  log?: (message: string) => void;
}

export async function resolveTemporalCli(opts: ResolveTemporalCliOptions = {}): Promise<string | null> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? (() => {});

  const explicit = env['TEMPORAL_CLI_PATH'];
  if (explicit) {
    const resolved = path.resolve(explicit);
    if (!(await isExecutableFile(resolved))) {
      throw new Error(`TEMPORAL_CLI_PATH=${explicit} does not point to an executable file`);
    }
    return resolved;
  }

  const onPath = await findOnPath('temporal', env);
  if (onPath) return onPath;

  const cacheDir = certflowCacheDir(env);
  const installDir = path.join(cacheDir, `temporal-cli-${TEMPORAL_CLI_VERSION}`);
  const binary = path.join(installDir, 'temporal');
  if (await isExecutableFile(binary)) return binary;

  const go = await findOnPath('go', env);
  if (!go) {
    log(`Temporal CLI not found (no TEMPORAL_CLI_PATH, no temporal on PATH, no ${binary}) and no go to build it`);
    return null;
  }
  return await buildWithGo({ go, cacheDir, installDir, env, log });
}

/** `$CERTFLOW_CACHE_DIR`, else `$XDG_CACHE_HOME/certflow`, else `~/.cache/certflow`. */
export function certflowCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env['CERTFLOW_CACHE_DIR']) return path.resolve(env['CERTFLOW_CACHE_DIR']);
  if (env['XDG_CACHE_HOME']) return path.join(path.resolve(env['XDG_CACHE_HOME']), 'certflow');
  return path.join(env['HOME'] || os.homedir(), '.cache', 'certflow');
}

interface BuildParams {
  go: string;
  cacheDir: string;
  installDir: string;
  env: NodeJS.ProcessEnv;
  log: (message: string) => void;
}

async function buildWithGo({ go, cacheDir, installDir, env, log }: BuildParams): Promise<string> {
  const binary = path.join(installDir, 'temporal');
  await fs.mkdir(cacheDir, { recursive: true });
  // The lock only avoids wasting minutes of CPU on parallel builds. Correctness does not depend on it: every
  // build goes to its own temp dir that is renamed into place, so the install dir never holds a partial binary.
  const releaseLock = await acquireLock(`${installDir}.lock`, log);
  try {
    if (await isExecutableFile(binary)) return binary; // built by whoever held the lock before us

    await removeLeftoverTempDirs(installDir);
    const tempDir = `${installDir}.tmp-${process.pid}`;
    log(
      `Building Temporal CLI ${TEMPORAL_CLI_VERSION} with ${go} into ${installDir}. ` +
        'The first build takes several minutes; later runs reuse the cached binary.',
    );
    const startedAt = Date.now();
    try {
      await runGoInstall(go, tempDir, env, log);
      if (!(await isExecutableFile(path.join(tempDir, 'temporal')))) {
        throw new Error(`go install finished but ${tempDir}/temporal is missing`);
      }
      // Only a dir without a usable binary can be here (checked above, under the lock): replace it.
      await fs.rm(installDir, { recursive: true, force: true });
      await fs.rename(tempDir, installDir);
    } finally {
      await fs.rm(tempDir, { recursive: true, force: true });
    }
    log(`Built Temporal CLI ${TEMPORAL_CLI_VERSION} in ${Math.round((Date.now() - startedAt) / 1000)} s: ${binary}`);
    return binary;
  } finally {
    await releaseLock();
  }
}

async function runGoInstall(go: string, gobin: string, env: NodeJS.ProcessEnv, log: (m: string) => void): Promise<void> {
  const args = ['install', GO_LDFLAGS, `${CLI_MODULE}@${TEMPORAL_CLI_VERSION}`];
  const child = spawn(go, args, { env: { ...env, GOBIN: gobin }, stdio: ['ignore', 'pipe', 'pipe'] });
  const tail: string[] = [];
  const onLine = (line: string) => {
    log(`[go] ${line}`);
    tail.push(line);
    if (tail.length > 30) tail.shift();
  };
  readline.createInterface({ input: child.stdout }).on('line', onLine);
  readline.createInterface({ input: child.stderr }).on('line', onLine);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c, s) => resolve([c, s]));
  });
  if (code !== 0) {
    throw new Error(
      `GOBIN=${gobin} ${go} ${args.join(' ')} failed (exit ${code ?? signal}):\n${tail.join('\n')}`,
    );
  }
}

async function acquireLock(lockDir: string, log: (m: string) => void): Promise<() => Promise<void>> {
  let announcedWait = false;
  for (;;) {
    try {
      await fs.mkdir(lockDir);
      await fs.writeFile(
        path.join(lockDir, 'owner.json'),
        JSON.stringify({ pid: process.pid, hostname: os.hostname(), since: new Date().toISOString() }),
      );
      const heartbeat = setInterval(() => {
        const now = new Date();
        fs.utimes(lockDir, now, now).catch(() => {});
      }, LOCK_HEARTBEAT_MS);
      heartbeat.unref();
      return async () => {
        clearInterval(heartbeat);
        await fs.rm(lockDir, { recursive: true, force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (await isStaleLock(lockDir)) {
      log(`Removing stale lock ${lockDir}`);
      await fs.rm(lockDir, { recursive: true, force: true });
      continue;
    }
    if (!announcedWait) {
      log(`Waiting for another process building the Temporal CLI (lock: ${lockDir})`);
      announcedWait = true;
    }
    await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
  }
}

async function isStaleLock(lockDir: string): Promise<boolean> {
  try {
    const owner = JSON.parse(await fs.readFile(path.join(lockDir, 'owner.json'), 'utf8')) as {
      pid?: unknown;
      hostname?: unknown;
    };
    if (owner.hostname === os.hostname() && typeof owner.pid === 'number' && !isProcessAlive(owner.pid)) {
      return true;
    }
  } catch {
    // owner.json missing (owner died right after mkdir, or is writing it now) or unreadable: judge by heartbeat.
  }
  try {
    const stat = await fs.stat(lockDir);
    return Date.now() - stat.mtimeMs > LOCK_STALE_MS;
  } catch {
    return false; // lock vanished meanwhile; the next mkdir attempt will tell
  }
}

/** Removes `<installDir>.tmp-*` dirs of interrupted builds. Only called while holding the lock. */
async function removeLeftoverTempDirs(installDir: string): Promise<void> {
  const parent = path.dirname(installDir);
  const prefix = `${path.basename(installDir)}.tmp-`;
  for (const entry of await fs.readdir(parent)) {
    if (entry.startsWith(prefix)) await fs.rm(path.join(parent, entry), { recursive: true, force: true });
  }
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function findOnPath(command: string, env: NodeJS.ProcessEnv): Promise<string | null> {
  for (const dir of (env['PATH'] ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    if (await isExecutableFile(candidate)) return candidate;
  }
  return null;
}

async function isExecutableFile(file: string): Promise<boolean> {
  try {
    const stat = await fs.stat(file);
    if (!stat.isFile()) return false;
    await fs.access(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

async function main(args: string[]): Promise<number> {
  if (args.length !== 1 || args[0] !== 'install') {
    process.stderr.write('usage: tsx scripts/temporal-cli.ts install\n');
    return 2;
  }
  const cli = await resolveTemporalCli({ log: (message) => process.stderr.write(`${message}\n`) });
  if (!cli) {
    process.stderr.write(
      'No Temporal CLI and no Go toolchain found. Install Go (or set TEMPORAL_CLI_PATH); ' +
        'otherwise the dev server falls back to the binary downloaded by @temporalio/testing.\n',
    );
    return 1;
  }
  process.stdout.write(`${cli}\n`);
  return 0;
}

if (isEntryPoint()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}

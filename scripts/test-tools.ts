/**
 * Ensures the external checkers the `external` test project runs exist, installing them when missing:
 *
 * - GnuTLS `certtool` and SoftHSM2 (`softhsm2-util`, `libsofthsm2.so`): Debian packages `gnutls-bin` and
 *   `softhsm2`, installed with apt-get when running as root on a machine that has it; otherwise this fails
 *   with a message saying what to install.
 * - zlint, pinned to ZLINT_VERSION (the linter's results depend on its version, so a zlint on PATH is not
 *   used): `GOBIN=<cache>/zlint-<version> go install github.com/zmap/zlint/v3/cmd/zlint@<version>`, cached
 *   outside the repo in the same dir as the Temporal CLI (`certflowCacheDir()`). `$ZLINT_PATH` overrides it.
 *
 * Installs run under a lock dir in the cache dir so concurrent callers (parallel test runs, engineers) don't
 * race; a build goes to a temp dir that is renamed into place, so the cache never holds a partial binary.
 *
 * Runnable as a script: `tsx scripts/test-tools.ts` installs what is missing and prints the paths as JSON.
 */
import { spawn } from 'node:child_process';
import { constants as fsConstants, realpathSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { certflowCacheDir } from './temporal-cli.js';

/**
 * The newest zlint the Go module proxy serves (v3.7.3, 2025) — it builds with Go 1.26. Raising it may add
 * lints: rerun `npx vitest run --project external test/external/zlint.test.ts` and review
 * docs/zlint-exceptions.md.
 */
export const ZLINT_VERSION = 'v3.7.3';
const ZLINT_MODULE = 'github.com/zmap/zlint/v3/cmd/zlint';

/** Debian packages providing the other tools. */
const APT_PACKAGES = ['gnutls-bin', 'softhsm2'];

/** Where distributions put the SoftHSM2 PKCS#11 module (Debian/Ubuntu first). */
const SOFTHSM_MODULE_CANDIDATES = [
  '/usr/lib/softhsm/libsofthsm2.so',
  '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/lib64/pkcs11/libsofthsm2.so',
  '/usr/lib/pkcs11/libsofthsm2.so',
  '/usr/local/lib/softhsm/libsofthsm2.so',
];

const LOCK_HEARTBEAT_MS = 15_000;
const LOCK_STALE_MS = 120_000;
const LOCK_POLL_MS = 1_000;

export interface TestTools {
  certtool: string;
  zlint: string;
  softhsm2Util: string;
  /** Path of the SoftHSM2 PKCS#11 module (libsofthsm2.so). */
  softhsmModule: string;
}

export type Log = (message: string) => void;

export interface EnsureTestToolsOptions {
  env?: NodeJS.ProcessEnv;
}

export async function ensureTestTools(log: Log = () => {}, options: EnsureTestToolsOptions = {}): Promise<TestTools> {
  const env = options.env ?? process.env;
  // Sequential on purpose: both may take minutes of CPU, and the machine has 2 shared cores.
  const debian = await ensureDebianTools(env, log);
  const zlint = await ensureZlint(env, log);
  return { ...debian, zlint };
}

// ---------------------------------------------------------------------------------------------------------
// certtool + SoftHSM2 (Debian packages)

interface DebianTools {
  certtool: string;
  softhsm2Util: string;
  softhsmModule: string;
}

async function findDebianTools(env: NodeJS.ProcessEnv): Promise<Partial<DebianTools>> {
  const [certtool, softhsm2Util, softhsmModule] = await Promise.all([
    findOnPath('certtool', env),
    findOnPath('softhsm2-util', env),
    findSofthsmModule(env),
  ]);
  return { certtool: certtool ?? undefined, softhsm2Util: softhsm2Util ?? undefined, softhsmModule: softhsmModule ?? undefined };
}

function complete(tools: Partial<DebianTools>): DebianTools | null {
  const { certtool, softhsm2Util, softhsmModule } = tools;
  return certtool && softhsm2Util && softhsmModule ? { certtool, softhsm2Util, softhsmModule } : null;
}

async function ensureDebianTools(env: NodeJS.ProcessEnv, log: Log): Promise<DebianTools> {
  const found = complete(await findDebianTools(env));
  if (found) return found;

  const apt = await findOnPath('apt-get', env);
  const isRoot = process.getuid?.() === 0;
  if (!apt || !isRoot) {
    const missing = describeMissing(await findDebianTools(env));
    throw new Error(
      `Missing external test tools: ${missing}. Install the Debian/Ubuntu packages ${APT_PACKAGES.join(' ')} ` +
        `(sudo apt-get install -y ${APT_PACKAGES.join(' ')}), or your distribution's GnuTLS tools and SoftHSM 2; ` +
        `this script installs them itself only when running as root with apt-get ` +
        `(${!apt ? 'no apt-get on PATH' : 'not running as root'}).`,
    );
  }

  const cacheDir = certflowCacheDir(env);
  await fs.mkdir(cacheDir, { recursive: true });
  const releaseLock = await acquireLock(path.join(cacheDir, 'apt-test-tools.lock'), 'apt-get install of the test tools', log);
  try {
    const again = complete(await findDebianTools(env)); // installed by whoever held the lock before us
    if (again) return again;
    const startedAt = Date.now();
    log(`Installing ${APT_PACKAGES.join(', ')} with apt-get (missing: ${describeMissing(await findDebianTools(env))})`);
    const aptEnv = { ...env, DEBIAN_FRONTEND: 'noninteractive' };
    // Wait for other apt/dpkg users (e.g. an engineer's apt-get) instead of failing on dpkg's lock.
    const lockTimeout = ['-o', 'DPkg::Lock::Timeout=600'];
    await run(apt, [...lockTimeout, 'update'], aptEnv, log, 'apt');
    await run(apt, [...lockTimeout, 'install', '-y', '--no-install-recommends', ...APT_PACKAGES], aptEnv, log, 'apt');
    const installed = await findDebianTools(env);
    const tools = complete(installed);
    if (!tools) throw new Error(`apt-get installed ${APT_PACKAGES.join(' ')} but still missing: ${describeMissing(installed)}`);
    log(`Installed ${APT_PACKAGES.join(', ')} in ${Math.round((Date.now() - startedAt) / 1000)} s`);
    return tools;
  } finally {
    await releaseLock();
  }
}

function describeMissing(tools: Partial<DebianTools>): string {
  const missing: string[] = [];
  if (!tools.certtool) missing.push('certtool (gnutls-bin)');
  if (!tools.softhsm2Util) missing.push('softhsm2-util (softhsm2)');
  if (!tools.softhsmModule) missing.push('libsofthsm2.so (softhsm2)');
  return missing.length > 0 ? missing.join(', ') : 'nothing';
}

async function findSofthsmModule(env: NodeJS.ProcessEnv): Promise<string | null> {
  const explicit = env['SOFTHSM2_MODULE'];
  if (explicit) {
    if (!(await isFile(explicit))) throw new Error(`SOFTHSM2_MODULE=${explicit} is not a file`);
    return path.resolve(explicit);
  }
  for (const candidate of SOFTHSM_MODULE_CANDIDATES) if (await isFile(candidate)) return candidate;
  return null;
}

// ---------------------------------------------------------------------------------------------------------
// zlint (go install, cached by version)

/** `$ZLINT_PATH`, else the cached build of ZLINT_VERSION, else a fresh `go install` into the cache. */
export async function ensureZlint(env: NodeJS.ProcessEnv, log: Log): Promise<string> {
  const explicit = env['ZLINT_PATH'];
  if (explicit) {
    const resolved = path.resolve(explicit);
    if (!(await isExecutableFile(resolved))) throw new Error(`ZLINT_PATH=${explicit} does not point to an executable file`);
    return resolved;
  }

  const cacheDir = certflowCacheDir(env);
  const installDir = path.join(cacheDir, `zlint-${ZLINT_VERSION}`);
  const binary = path.join(installDir, 'zlint');
  if (await isExecutableFile(binary)) return binary;

  const go = await findOnPath('go', env);
  if (!go) {
    throw new Error(
      `zlint ${ZLINT_VERSION} is not built (${binary} missing) and there is no go on PATH to build it. ` +
        `Install Go (https://go.dev/dl, or Debian's golang-go if recent enough), or build it yourself with ` +
        `\`go install ${ZLINT_MODULE}@${ZLINT_VERSION}\` and set ZLINT_PATH.`,
    );
  }

  await fs.mkdir(cacheDir, { recursive: true });
  const releaseLock = await acquireLock(`${installDir}.lock`, `build of zlint ${ZLINT_VERSION}`, log);
  try {
    if (await isExecutableFile(binary)) return binary; // built by whoever held the lock before us
    await removeLeftoverTempDirs(installDir);
    const tempDir = `${installDir}.tmp-${process.pid}`;
    log(`Building zlint ${ZLINT_VERSION} with ${go} into ${installDir}; later runs reuse the cached binary.`);
    const startedAt = Date.now();
    try {
      await run(go, ['install', `-ldflags=-s -w -X main.version=${ZLINT_VERSION}`, `${ZLINT_MODULE}@${ZLINT_VERSION}`], { ...env, GOBIN: tempDir }, log, 'go');
      if (!(await isExecutableFile(path.join(tempDir, 'zlint')))) throw new Error(`go install finished but ${tempDir}/zlint is missing`);
      await fs.rm(installDir, { recursive: true, force: true });
      await fs.rename(tempDir, installDir);
    } finally {
      await fs.rm(tempDir, { recursive: true, force: true });
    }
    log(`Built zlint ${ZLINT_VERSION} in ${Math.round((Date.now() - startedAt) / 1000)} s: ${binary}`);
    return binary;
  } finally {
    await releaseLock();
  }
}

// ---------------------------------------------------------------------------------------------------------
// helpers

async function run(command: string, args: string[], env: NodeJS.ProcessEnv, log: Log, tag: string): Promise<void> {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const tail: string[] = [];
  const onLine = (line: string) => {
    log(`[${tag}] ${line}`);
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
    const prefix = tag === 'go' ? `GOBIN=${env['GOBIN'] ?? ''} ` : '';
    throw new Error(`${prefix}${command} ${args.join(' ')} failed (exit ${code ?? signal}):\n${tail.join('\n')}`);
  }
}

/** A lock dir with an owner file and a heartbeat (same scheme as scripts/temporal-cli.ts). */
async function acquireLock(lockDir: string, what: string, log: Log): Promise<() => Promise<void>> {
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
      log(`Waiting for another process's ${what} (lock: ${lockDir})`);
      announcedWait = true;
    }
    await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
  }
}

async function isStaleLock(lockDir: string): Promise<boolean> {
  try {
    const owner = JSON.parse(await fs.readFile(path.join(lockDir, 'owner.json'), 'utf8')) as { pid?: unknown; hostname?: unknown };
    if (owner.hostname === os.hostname() && typeof owner.pid === 'number' && !isProcessAlive(owner.pid)) return true;
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

async function isFile(file: string): Promise<boolean> {
  try {
    return (await fs.stat(file)).isFile();
  } catch {
    return false;
  }
}

async function isExecutableFile(file: string): Promise<boolean> {
  try {
    if (!(await fs.stat(file)).isFile()) return false;
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

if (isEntryPoint()) {
  ensureTestTools((message) => process.stderr.write(`${message}\n`)).then(
    (tools) => {
      process.stdout.write(`${JSON.stringify(tools, null, 2)}\n`);
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}

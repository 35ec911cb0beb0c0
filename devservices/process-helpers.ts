/**
 * Small helpers shared by the tool-installing modules (devservices/go-tool.ts, devservices/temporal-cli.ts,
 * scripts/test-tools.ts): PATH lookup, executable checks, a cross-process lock dir, running a child with its
 * output logged line by line, and "is this file the script being run".
 */
import { spawn } from 'node:child_process';
import { constants as fsConstants, realpathSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

export type Log = (message: string) => void;

const LOCK_HEARTBEAT_MS = 15_000;
const LOCK_STALE_MS = 120_000;
const LOCK_POLL_MS = 1_000;

// ---------------------------------------------------------------------------------------------------------
// files

export async function findOnPath(command: string, env: NodeJS.ProcessEnv): Promise<string | null> {
  for (const dir of (env['PATH'] ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    if (await isExecutableFile(candidate)) return candidate;
  }
  return null;
}

export async function isFile(file: string): Promise<boolean> {
  try {
    return (await fs.stat(file)).isFile();
  } catch {
    return false;
  }
}

export async function isExecutableFile(file: string): Promise<boolean> {
  try {
    if (!(await fs.stat(file)).isFile()) return false;
    await fs.access(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The absolute path named by the override variable `env[name]` (e.g. TEMPORAL_CLI_PATH), or null when it is
 * unset or empty. Throws when it is set but does not point to an executable file.
 */
export async function executableFromEnv(env: NodeJS.ProcessEnv, name: string): Promise<string | null> {
  const explicit = env[name];
  if (!explicit) return null;
  const resolved = path.resolve(explicit);
  if (!(await isExecutableFile(resolved))) throw new Error(`${name}=${explicit} does not point to an executable file`);
  return resolved;
}

// ---------------------------------------------------------------------------------------------------------
// lock dir

/**
 * Takes the lock dir `lockDir` (mkdir is atomic), waiting while another process holds it. The holder writes
 * `owner.json` (pid, hostname) and touches the dir every LOCK_HEARTBEAT_MS; a lock whose owner is a dead
 * process on this host, or whose heartbeat is older than LOCK_STALE_MS, is removed. `what` names the work
 * the lock guards in the "waiting" message, e.g. "build of zlint v3.7.3". Returns the release function.
 */
export async function acquireLock(lockDir: string, what: string, log: Log): Promise<() => Promise<void>> {
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

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// ---------------------------------------------------------------------------------------------------------
// processes

export interface RunLoggedOptions {
  env: NodeJS.ProcessEnv;
  log: Log;
  /** Prefix of each logged output line: `[tag] line`. */
  tag: string;
  /** Names of variables of `env` to show before the command in the failure message (e.g. GOBIN). */
  shownEnv?: string[];
  cwd?: string;
}

/**
 * Runs `command args`, logging each line of its stdout and stderr as `[tag] line`. Throws on a non-zero exit
 * with the command line and the last 30 output lines.
 */
export async function runLogged(command: string, args: string[], { env, log, tag, shownEnv = [], cwd }: RunLoggedOptions): Promise<void> {
  const child = spawn(command, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
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
    const prefix = shownEnv.map((name) => `${name}=${env[name] ?? ''} `).join('');
    throw new Error(`${prefix}${command} ${args.join(' ')} failed (exit ${code ?? signal}):\n${tail.join('\n')}`);
  }
}

/** Whether the module with URL `moduleUrl` (pass `import.meta.url`) is the script node was started with. */
export function isEntryPoint(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}

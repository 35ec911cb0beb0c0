/**
 * Debian packages a developer tool needs, installed with apt-get when running as root on a machine that has
 * it; otherwise a message says what to install. The install runs under a lock dir in the certflow cache dir
 * so parallel test runs don't queue on dpkg's lock or install twice.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { certflowCacheDir } from './go-tool.js';
import { acquireLock, findOnPath, runLogged, type Log } from './process-helpers.js';

export type Found<T> = { found: T } | { missing: string };

export interface EnsureAptPackagesOptions<T> {
  /** Debian packages providing what `find` looks for. */
  packages: string[];
  /** What the packages are for, in messages (e.g. "ACME test clients"). */
  what: string;
  /** The installed tools, or a description of what is missing. */
  find: () => Promise<Found<T>>;
  /** Name of the lock dir in the cache dir. */
  lockName: string;
  env: NodeJS.ProcessEnv;
  log: Log;
}

export async function ensureAptPackages<T>(opts: EnsureAptPackagesOptions<T>): Promise<T> {
  const { packages, what, find, env, log } = opts;
  const first = await find();
  if ('found' in first) return first.found;

  const apt = await findOnPath('apt-get', env);
  const isRoot = process.getuid?.() === 0;
  if (!apt || !isRoot) {
    throw new Error(
      `Missing ${what}: ${first.missing}. Install the Debian/Ubuntu packages ${packages.join(' ')} ` +
        `(sudo apt-get install -y ${packages.join(' ')}); they are installed automatically only when running as root ` +
        `with apt-get (${!apt ? 'no apt-get on PATH' : 'not running as root'}).`,
    );
  }

  const cacheDir = certflowCacheDir(env);
  await fs.mkdir(cacheDir, { recursive: true });
  const releaseLock = await acquireLock(path.join(cacheDir, opts.lockName), `apt-get install of the ${what}`, log);
  try {
    const again = await find(); // installed by whoever held the lock before us
    if ('found' in again) return again.found;
    const startedAt = Date.now();
    log(`Installing ${packages.join(', ')} with apt-get (missing: ${again.missing})`);
    const aptEnv = { ...env, DEBIAN_FRONTEND: 'noninteractive' };
    // Wait for other apt/dpkg users (e.g. an engineer's apt-get) instead of failing on dpkg's lock.
    const lockTimeout = ['-o', 'DPkg::Lock::Timeout=600'];
    await runLogged(apt, [...lockTimeout, 'update'], { env: aptEnv, log, tag: 'apt' });
    await runLogged(apt, [...lockTimeout, 'install', '-y', '--no-install-recommends', ...packages], { env: aptEnv, log, tag: 'apt' });
    const installed = await find();
    if ('missing' in installed) throw new Error(`apt-get installed ${packages.join(' ')} but still missing: ${installed.missing}`);
    log(`Installed ${packages.join(', ')} in ${Math.round((Date.now() - startedAt) / 1000)} s`);
    return installed.found;
  } finally {
    await releaseLock();
  }
}

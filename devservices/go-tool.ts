/**
 * Go command-line tools built once per version with `go install` and cached outside the repo, in the certflow
 * cache dir: `<cacheDir>/<tool>-<version>/<binary>` (used for the Temporal CLI and zlint).
 *
 * A build runs under the lock dir `<cacheDir>/<tool>-<version>.lock`. The lock only avoids wasting minutes
 * of CPU on parallel builds; correctness does not depend on it: every build goes to its own temp GOBIN that
 * is renamed into place, so the install dir never holds a partial binary.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { acquireLock, findOnPath, isExecutableFile, runLogged, type Log } from './process-helpers.js';

/** `$CERTFLOW_CACHE_DIR`, else `$XDG_CACHE_HOME/certflow`, else `~/.cache/certflow`. */
export function certflowCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env['CERTFLOW_CACHE_DIR']) return path.resolve(env['CERTFLOW_CACHE_DIR']);
  if (env['XDG_CACHE_HOME']) return path.join(path.resolve(env['XDG_CACHE_HOME']), 'certflow');
  return path.join(env['HOME'] || os.homedir(), '.cache', 'certflow');
}

export interface GoTool {
  /** Name of the install dir in the cache dir: `<tool>-<version>`. */
  tool: string;
  /** Name in log messages (e.g. "Temporal CLI"); defaults to `tool`. */
  label?: string;
  /** Import path of the main package; the binary is named after it the way `go install` names it. */
  module: string;
  /** Module version (a tag such as v1.5.1). */
  version: string;
  /** Value of `-ldflags`, if any. */
  ldflags?: string;
}

export interface GoInstallCachedOptions extends GoTool {
  env?: NodeJS.ProcessEnv;
  log?: Log;
}

/** Where the binary of `tool` is (or will be) cached: `<certflowCacheDir(env)>/<tool>-<version>/<binary>`. */
export function cachedGoToolPath(tool: GoTool, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(certflowCacheDir(env), `${tool.tool}-${tool.version}`, goBinaryName(tool.module));
}

/**
 * The cached binary of `module@version`, built first with `go install` (go from `env`'s PATH) when it is not
 * cached yet. Returns null when it is not cached and there is no go on PATH to build it: the caller decides
 * whether that is fatal and what to tell the user. Build progress and go's output go to `log`.
 */
export async function goInstallCached(opts: GoInstallCachedOptions): Promise<string | null> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? (() => {});
  const binary = cachedGoToolPath(opts, env);
  if (await isExecutableFile(binary)) return binary;

  const go = await findOnPath('go', env);
  if (!go) return null;

  const installDir = path.dirname(binary);
  const label = `${opts.label ?? opts.tool} ${opts.version}`;
  await fs.mkdir(path.dirname(installDir), { recursive: true });
  const releaseLock = await acquireLock(`${installDir}.lock`, `build of ${label}`, log);
  try {
    if (await isExecutableFile(binary)) return binary; // built by whoever held the lock before us

    await removeLeftoverTempDirs(installDir);
    const tempDir = `${installDir}.tmp-${process.pid}`;
    log(`Building ${label} with ${go} into ${installDir}. A first build can take minutes; later runs reuse the cached binary.`);
    const startedAt = Date.now();
    try {
      const args = ['install', ...(opts.ldflags ? [`-ldflags=${opts.ldflags}`] : []), `${opts.module}@${opts.version}`];
      await runLogged(go, args, { env: { ...env, GOBIN: tempDir }, log, tag: 'go', shownEnv: ['GOBIN'] });
      const built = path.join(tempDir, path.basename(binary));
      if (!(await isExecutableFile(built))) throw new Error(`go install finished but ${built} is missing`);
      // Only a dir without a usable binary can be here (checked above, under the lock): replace it.
      await fs.rm(installDir, { recursive: true, force: true });
      await fs.rename(tempDir, installDir);
    } finally {
      await fs.rm(tempDir, { recursive: true, force: true });
    }
    log(`Built ${label} in ${Math.round((Date.now() - startedAt) / 1000)} s: ${binary}`);
    return binary;
  } finally {
    await releaseLock();
  }
}

/** The name `go install` gives the binary of a main package: its last path element, skipping a `/vN` suffix. */
function goBinaryName(module: string): string {
  const elements = module.split('/');
  const last = elements.at(-1) ?? module;
  return /^v\d+$/.test(last) && elements.length > 1 ? (elements.at(-2) ?? last) : last;
}

/** Removes `<installDir>.tmp-*` dirs of interrupted builds. Only called while holding the lock. */
async function removeLeftoverTempDirs(installDir: string): Promise<void> {
  const parent = path.dirname(installDir);
  const prefix = `${path.basename(installDir)}.tmp-`;
  for (const entry of await fs.readdir(parent)) {
    if (entry.startsWith(prefix)) await fs.rm(path.join(parent, entry), { recursive: true, force: true });
  }
}

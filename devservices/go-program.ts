/**
 * A Go main package kept in this repo (its own go.mod and go.sum), built with `go build` once per content and
 * cached outside the repo: `<cacheDir>/<name>-<version>-<hash>/<name>`, where `hash` covers the package's
 * *.go files, go.mod and go.sum, so an edit builds a fresh binary and a checkout of an older commit finds its
 * old one. Same lock and temp-dir-renamed-into-place scheme as devservices/go-tool.ts.
 *
 * `package` builds a main package of a dependency instead of the dir's own (the dir then holds only go.mod and
 * go.sum, naming it in a `tool` directive so that `go mod tidy` keeps its requirements): how etcd and
 * kube-apiserver are built, since their own modules carry replace directives (devservices/kube-binaries.ts).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { certflowCacheDir } from './go-tool.js';
import { acquireLock, findOnPath, isExecutableFile, runLogged, type Log } from './process-helpers.js';

export interface GoProgram {
  /** Binary name and install dir prefix. */
  name: string;
  /** Dir of the main package (holding go.mod). */
  sourceDir: string;
  /** Part of the install dir name, for people reading the cache dir (e.g. the version of the main dependency). */
  version: string;
  /** Import path of the main package to build; default `.` (the dir's own). */
  package?: string;
  /** Value of `-ldflags`, if any. */
  ldflags?: string;
}

export interface GoBuildCachedOptions extends GoProgram {
  env?: NodeJS.ProcessEnv;
  log?: Log;
}

/** Where the binary of the program's current sources is (or will be) cached. */
export async function cachedGoProgramPath(program: GoProgram, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const hash = await sourceHash(program);
  return path.join(certflowCacheDir(env), `${program.name}-${program.version}-${hash}`, program.name);
}

/**
 * The cached binary of the program, built first with `go build` (go from `env`'s PATH) when it is not cached
 * yet. Returns null when it is not cached and there is no go on PATH.
 */
export async function goBuildCached(opts: GoBuildCachedOptions): Promise<string | null> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? (() => {});
  const binary = await cachedGoProgramPath(opts, env);
  if (await isExecutableFile(binary)) return binary;

  const go = await findOnPath('go', env);
  if (!go) return null;

  const installDir = path.dirname(binary);
  await fs.mkdir(path.dirname(installDir), { recursive: true });
  const releaseLock = await acquireLock(`${installDir}.lock`, `build of ${opts.name}`, log);
  try {
    if (await isExecutableFile(binary)) return binary; // built by whoever held the lock before us

    const tempDir = `${installDir}.tmp-${process.pid}`;
    log(`Building ${opts.name} (${opts.sourceDir}) with ${go} into ${installDir}`);
    const startedAt = Date.now();
    try {
      const built = path.join(tempDir, opts.name);
      // GOWORK=off: a go.work above the repo must not change which modules the program builds against.
      const args = ['build', '-trimpath', ...(opts.ldflags ? [`-ldflags=${opts.ldflags}`] : []), '-o', built, opts.package ?? '.'];
      await runLogged(go, args, { env: { ...env, GOWORK: 'off' }, log, tag: 'go', cwd: opts.sourceDir });
      if (!(await isExecutableFile(built))) throw new Error(`go build finished but ${built} is missing`);
      await fs.rm(installDir, { recursive: true, force: true });
      await fs.rename(tempDir, installDir);
    } finally {
      await fs.rm(tempDir, { recursive: true, force: true });
    }
    log(`Built ${opts.name} in ${Math.round((Date.now() - startedAt) / 1000)} s: ${binary}`);
    return binary;
  } finally {
    await releaseLock();
  }
}

async function sourceHash({ sourceDir, package: mainPackage, ldflags }: GoProgram): Promise<string> {
  const files = (await fs.readdir(sourceDir)).filter((f) => f.endsWith('.go') || f === 'go.mod' || f === 'go.sum').sort();
  const hash = createHash('sha256');
  // Only when set, so that the programs built before these options existed keep their hash.
  if (mainPackage !== undefined || ldflags !== undefined) hash.update(`package=${mainPackage ?? '.'}\0ldflags=${ldflags ?? ''}\0`);
  for (const file of files) {
    hash.update(`${file}\0`);
    hash.update(await fs.readFile(path.join(sourceDir, file)));
    hash.update('\0');
  }
  return hash.digest('hex').slice(0, 12);
}

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
import fs from 'node:fs/promises';
import path from 'node:path';
import { cachedGoToolPath, certflowCacheDir, goInstallCached, type GoTool } from '../devservices/go-tool.js';
import { acquireLock, executableFromEnv, findOnPath, isEntryPoint, isFile, runLogged, type Log } from '../devservices/process-helpers.js';

export type { Log };

/**
 * The newest zlint the Go module proxy serves (v3.7.3, 2025) — it builds with Go 1.26. Raising it may add
 * lints: rerun `npx vitest run --project external test/external/zlint.test.ts` and review
 * docs/zlint-exceptions.md.
 */
export const ZLINT_VERSION = 'v3.7.3';
const ZLINT: GoTool = {
  tool: 'zlint',
  module: 'github.com/zmap/zlint/v3/cmd/zlint',
  version: ZLINT_VERSION,
  ldflags: `-s -w -X main.version=${ZLINT_VERSION}`,
};

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

export interface TestTools {
  certtool: string;
  zlint: string;
  softhsm2Util: string;
  /** Path of the SoftHSM2 PKCS#11 module (libsofthsm2.so). */
  softhsmModule: string;
}

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

export interface DebianTools {
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

/** certtool and SoftHSM2 only (no zlint build): what the SoftHSM2 integration test needs. */
export async function ensureDebianTools(env: NodeJS.ProcessEnv, log: Log): Promise<DebianTools> {
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
    await runLogged(apt, [...lockTimeout, 'update'], { env: aptEnv, log, tag: 'apt' });
    await runLogged(apt, [...lockTimeout, 'install', '-y', '--no-install-recommends', ...APT_PACKAGES], { env: aptEnv, log, tag: 'apt' });
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
  const explicit = await executableFromEnv(env, 'ZLINT_PATH');
  if (explicit) return explicit;

  const zlint = await goInstallCached({ ...ZLINT, env, log });
  if (!zlint) {
    throw new Error(
      `zlint ${ZLINT_VERSION} is not built (${cachedGoToolPath(ZLINT, env)} missing) and there is no go on PATH to build it. ` +
        `Install Go (https://go.dev/dl, or Debian's golang-go if recent enough), or build it yourself with ` +
        `\`go install ${ZLINT.module}@${ZLINT_VERSION}\` and set ZLINT_PATH.`,
    );
  }
  return zlint;
}

if (isEntryPoint(import.meta.url)) {
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

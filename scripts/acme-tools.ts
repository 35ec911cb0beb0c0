/**
 * Ensures the ACME clients and servers the ACME conformance tests drive exist, installing them when missing
 * (issue 12: the tests run ACME clients nobody on the team wrote, against Pebble and against Certflow):
 *
 * - Debian 12 packages `certbot` (2.1), `lego` (4.9) and `pebble` (2.4, which also ships
 *   pebble-challtestsrv), installed with apt-get when running as root on a machine that has it
 *   (devservices/apt-packages.ts); otherwise this fails with a message saying what to install.
 *   `$CERTBOT_PATH`, `$LEGO_PATH`, `$PEBBLE_PATH` and `$PEBBLE_CHALLTESTSRV_PATH` override them.
 * - certbot CERTBOT_ARI_VERSION from PyPI in a virtualenv cached outside the repo (devservices/python-venv.ts):
 *   its `renew` asks the server's renewalInfo (RFC 9773, ARI) when to renew. `$CERTBOT_ARI_PATH` overrides it.
 * - pebble PEBBLE_ARI_VERSION, `go install`ed from the Go module proxy and cached like zlint
 *   (devservices/go-tool.ts): Debian's pebble 2.4 predates ARI; this one serves renewalInfo and lets a test
 *   set a certificate's suggested window (/set-renewal-info), so the ARI conformance cases have a reference
 *   server. `$PEBBLE_ARI_PATH` overrides it.
 * - test/acme-clients/certmanager-acme, a Go program around cert-manager's forked ACME client, built with
 *   `go build` and cached by its sources' hash (devservices/go-program.ts). `$CERTMANAGER_ACME_PATH`
 *   overrides it.
 *
 * Runnable as a script: `tsx scripts/acme-tools.ts` installs what is missing and prints the paths as JSON.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureAptPackages, type Found } from '../devservices/apt-packages.js';
import { goBuildCached } from '../devservices/go-program.js';
import { goInstallCached, type GoTool } from '../devservices/go-tool.js';
import { pipInstallCached, cachedPythonToolPath, type PythonTool } from '../devservices/python-venv.js';
import { executableFromEnv, findOnPath, isEntryPoint, isExecutableFile, type Log } from '../devservices/process-helpers.js';

export type { Log };

export const CERTBOT_ARI_VERSION = '5.8.0';
const CERTBOT_ARI: PythonTool = {
  tool: 'certbot',
  version: CERTBOT_ARI_VERSION,
  // certbot pins its acme library to its own version; naming it keeps pip from ever resolving another.
  requirements: [`certbot==${CERTBOT_ARI_VERSION}`, `acme==${CERTBOT_ARI_VERSION}`],
  entryPoint: 'certbot.main:main',
};

/** The newest pebble the module proxy serves; it has ARI (its renewalInfo path is still named after draft 03). */
export const PEBBLE_ARI_VERSION = 'v2.10.3';
const PEBBLE_ARI: GoTool = {
  tool: 'pebble',
  label: 'pebble (ARI)',
  module: 'github.com/letsencrypt/pebble/v2/cmd/pebble',
  version: PEBBLE_ARI_VERSION,
  ldflags: `-s -w -X main.version=${PEBBLE_ARI_VERSION}`,
};

/**
 * The Go program requires cert-manager v1.21.2 (its go.mod), the newest of the releases the module proxy lists
 * (v1.21.0 to v1.21.2); its third_party/forked/acme has GetRenewalInfo and WithOrderReplacesCertID (ARI) and
 * imports only the standard library, so only that package is compiled and go.sum holds two lines.
 */
const CERTMANAGER_ACME_DIR = fileURLToPath(new URL('../test/acme-clients/certmanager-acme', import.meta.url));

export interface AcmeTools {
  /** Debian's certbot 2.1. */
  certbot: string;
  /** Debian's lego 4.9. */
  lego: string;
  /** Debian's pebble 2.4. */
  pebble: string;
  pebbleChalltestsrv: string;
  /** pebble PEBBLE_ARI_VERSION, with ARI. */
  pebbleAri: string;
  /** certbot CERTBOT_ARI_VERSION (a wrapper script running it from its cached virtualenv). */
  certbotAri: string;
  /** The test/acme-clients/certmanager-acme program. */
  certManagerAcme: string;
}

export interface EnsureAcmeToolsOptions {
  env?: NodeJS.ProcessEnv;
}

export async function ensureAcmeTools(log: Log = () => {}, options: EnsureAcmeToolsOptions = {}): Promise<AcmeTools> {
  const env = options.env ?? process.env;
  // Sequential on purpose: apt, pip and go each keep the 2 shared cores busy.
  const debian = await ensureAcmeDebianTools(env, log);
  const certbotAri = await ensureCertbotAri(env, log);
  const certManagerAcme = await ensureCertManagerAcme(env, log);
  const pebbleAri = await ensurePebbleAri(env, log);
  return { ...debian, pebbleAri, certbotAri, certManagerAcme };
}

// ---------------------------------------------------------------------------------------------------------
// certbot, lego, pebble (Debian packages)

/** The lock scripts/test-tools.ts takes for its apt-get install: the two projects' globalSetups may run at once. */
const APT_LOCK = 'apt-test-tools.lock';

type DebianAcmeTools = Pick<AcmeTools, 'certbot' | 'lego' | 'pebble' | 'pebbleChalltestsrv'>;

/** Tool, its override variable, where Debian installs it, and its package. */
const DEBIAN_TOOLS: [keyof DebianAcmeTools, string, string, string][] = [
  ['certbot', 'CERTBOT_PATH', '/usr/bin/certbot', 'certbot'],
  ['lego', 'LEGO_PATH', '/usr/bin/lego', 'lego'],
  ['pebble', 'PEBBLE_PATH', '/usr/bin/pebble', 'pebble'],
  ['pebbleChalltestsrv', 'PEBBLE_CHALLTESTSRV_PATH', '/usr/bin/pebble-challtestsrv', 'pebble'],
];

export async function ensureAcmeDebianTools(env: NodeJS.ProcessEnv, log: Log): Promise<DebianAcmeTools> {
  return await ensureAptPackages({
    packages: ['certbot', 'lego', 'pebble'],
    what: 'ACME test clients and servers',
    find: () => findDebianTools(env),
    lockName: APT_LOCK,
    env,
    log,
  });
}

async function findDebianTools(env: NodeJS.ProcessEnv): Promise<Found<DebianAcmeTools>> {
  const tools: Partial<DebianAcmeTools> = {};
  const missing: string[] = [];
  for (const [key, variable, debianPath, pkg] of DEBIAN_TOOLS) {
    // Debian's path, not PATH: a pip-installed certbot on PATH would be another version.
    const found = (await executableFromEnv(env, variable)) ?? ((await isExecutableFile(debianPath)) ? debianPath : null);
    if (found) tools[key] = found;
    else missing.push(`${debianPath} (${pkg})`);
  }
  return missing.length > 0 ? { missing: missing.join(', ') } : { found: tools as DebianAcmeTools };
}

// ---------------------------------------------------------------------------------------------------------
// certbot from PyPI (virtualenv)

export async function ensureCertbotAri(env: NodeJS.ProcessEnv, log: Log): Promise<string> {
  const explicit = await executableFromEnv(env, 'CERTBOT_ARI_PATH');
  if (explicit) return explicit;
  const cached = cachedPythonToolPath(CERTBOT_ARI, env);
  if (await isExecutableFile(cached)) return cached;

  // Debian's python3 (what python3-venv serves), not whatever python3 comes first on PATH (pyenv, a venv).
  const python = (await isExecutableFile('/usr/bin/python3')) ? '/usr/bin/python3' : await findOnPath('python3', env);
  if (!python) throw new Error(`certbot ${CERTBOT_ARI_VERSION} needs python3 (3.10 or newer) with its venv module to install into ${cached}`);
  await ensureAptPackages({
    packages: ['python3-venv'],
    what: `venv module of ${python}`,
    // Debian moves ensurepip, which `python3 -m venv` runs, out of python3 into python3-venv.
    find: async () => (hasEnsurepip(python) ? { found: true } : { missing: `${python} -m ensurepip (python3-venv)` }),
    lockName: APT_LOCK,
    env,
    log,
  });
  return await pipInstallCached({ ...CERTBOT_ARI, python, env, log });
}

function hasEnsurepip(python: string): boolean {
  return spawnSync(python, ['-c', 'import ensurepip, venv'], { stdio: 'ignore' }).status === 0;
}

// ---------------------------------------------------------------------------------------------------------
// test/acme-clients/certmanager-acme (go build)

export async function ensureCertManagerAcme(env: NodeJS.ProcessEnv, log: Log): Promise<string> {
  const explicit = await executableFromEnv(env, 'CERTMANAGER_ACME_PATH');
  if (explicit) return explicit;
  const goMod = await fs.readFile(path.join(CERTMANAGER_ACME_DIR, 'go.mod'), 'utf8');
  const version = /github\.com\/cert-manager\/cert-manager (v\S+)/.exec(goMod)?.[1] ?? 'unknown';
  const program = { name: 'certmanager-acme', sourceDir: CERTMANAGER_ACME_DIR, version };
  const binary = await goBuildCached({ ...program, env, log });
  if (!binary) {
    throw new Error(
      `${path.relative(process.cwd(), CERTMANAGER_ACME_DIR)} is not built and there is no go on PATH to build it. ` +
        `Install Go 1.26 or newer (https://go.dev/dl), or build it yourself with \`go build\` in that dir and set CERTMANAGER_ACME_PATH.`,
    );
  }
  return binary;
}

// ---------------------------------------------------------------------------------------------------------
// pebble with ARI (go install)

export async function ensurePebbleAri(env: NodeJS.ProcessEnv, log: Log): Promise<string> {
  const explicit = await executableFromEnv(env, 'PEBBLE_ARI_PATH');
  if (explicit) return explicit;
  const pebble = await goInstallCached({ ...PEBBLE_ARI, env, log });
  if (!pebble) {
    throw new Error(
      `pebble ${PEBBLE_ARI_VERSION} is not built and there is no go on PATH to build it. Install Go (https://go.dev/dl), ` +
        `or build it yourself with \`go install ${PEBBLE_ARI.module}@${PEBBLE_ARI_VERSION}\` and set PEBBLE_ARI_PATH.`,
    );
  }
  return pebble;
}

if (isEntryPoint(import.meta.url)) {
  ensureAcmeTools((message) => process.stderr.write(`${message}\n`)).then(
    (tools) => {
      process.stdout.write(`${JSON.stringify(tools, null, 2)}\n`);
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}

/**
 * etcd and kube-apiserver for the Kubernetes tests (issue 13), built from their Go modules with `go build` and
 * cached outside the repo by devservices/go-program.ts: `<cacheDir>/etcd-v3.6.16-<hash>/etcd` and
 * `<cacheDir>/kube-apiserver-v1.37.2-<hash>/kube-apiserver`. Both modules carry replace directives, so
 * `go install` fails; the scratch modules in devservices/kube/ pin what they resolve to instead.
 * `$ETCD_PATH` and `$KUBE_APISERVER_PATH` override them.
 *
 * Also the cert-manager CRDs: the `deploy/crds/` of the `github.com/cert-manager/cert-manager` module the
 * ACME test program already requires (test/acme-clients/certmanager-acme), from the Go module cache.
 *
 * Runnable as a script: `tsx devservices/kube-binaries.ts` builds what is missing and prints the paths as JSON.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { goBuildCached, type GoProgram } from './go-program.js';
import { executableFromEnv, findOnPath, isEntryPoint, type Log } from './process-helpers.js';

export const ETCD_VERSION = 'v3.6.16';
export const KUBERNETES_VERSION = 'v1.37.2';
/** The cert-manager release whose CRDs the tests load (the one test/acme-clients/certmanager-acme requires). */
export const CERT_MANAGER_VERSION = 'v1.21.2';

const KUBE_DIR = fileURLToPath(new URL('./kube/', import.meta.url));
const [major, minor] = KUBERNETES_VERSION.slice(1).split('.');

const ETCD: GoProgram = {
  name: 'etcd',
  sourceDir: path.join(KUBE_DIR, 'etcd'),
  version: ETCD_VERSION,
  package: 'go.etcd.io/etcd/server/v3',
  ldflags: '-s -w',
};

const KUBE_APISERVER: GoProgram = {
  name: 'kube-apiserver',
  sourceDir: path.join(KUBE_DIR, 'kube-apiserver'),
  version: KUBERNETES_VERSION,
  package: 'k8s.io/kubernetes/cmd/kube-apiserver',
  // What `kube-apiserver --version` and /version report; a build from the module cache has no git tree to ask.
  ldflags: [
    '-s -w',
    `-X k8s.io/component-base/version.gitVersion=${KUBERNETES_VERSION}`,
    `-X k8s.io/component-base/version.gitMajor=${major}`,
    `-X k8s.io/component-base/version.gitMinor=${minor}`,
    '-X k8s.io/component-base/version.gitTreeState=clean',
  ].join(' '),
};

export interface KubeTools {
  etcd: string;
  kubeApiserver: string;
  /** The dir holding cert-manager's CRD manifests (`cert-manager.io_certificaterequests.yaml`, ...). */
  certManagerCrdsDir: string;
}

export interface EnsureKubeToolsOptions {
  env?: NodeJS.ProcessEnv;
}

export async function ensureKubeTools(log: Log = () => {}, options: EnsureKubeToolsOptions = {}): Promise<KubeTools> {
  const env = options.env ?? process.env;
  // Sequential on purpose: each build keeps the 2 shared cores busy.
  const etcd = await ensureBuilt(ETCD, 'ETCD_PATH', env, log);
  const kubeApiserver = await ensureBuilt(KUBE_APISERVER, 'KUBE_APISERVER_PATH', env, log);
  const certManagerCrdsDir = await certManagerCrds(env);
  return { etcd, kubeApiserver, certManagerCrdsDir };
}

async function ensureBuilt(program: GoProgram, variable: string, env: NodeJS.ProcessEnv, log: Log): Promise<string> {
  const explicit = await executableFromEnv(env, variable);
  if (explicit) return explicit;
  const binary = await goBuildCached({ ...program, env, log });
  if (!binary) {
    throw new Error(
      `${program.name} ${program.version} is not built and there is no go on PATH to build it. Install Go 1.26 or newer ` +
        `(https://go.dev/dl), or build it yourself with \`go build -o ${program.name} ${program.package}\` in ` +
        `${path.relative(process.cwd(), program.sourceDir)} and set ${variable}.`,
    );
  }
  return binary;
}

/** `go mod download` puts the module (from the cache, else the module proxy) in the module cache and says where. */
async function certManagerCrds(env: NodeJS.ProcessEnv): Promise<string> {
  const go = await findOnPath('go', env);
  if (!go) throw new Error(`cert-manager's CRDs come from its Go module (github.com/cert-manager/cert-manager@${CERT_MANAGER_VERSION}): install Go`);
  const { stdout } = await promisify(execFile)(go, ['mod', 'download', '-json', `github.com/cert-manager/cert-manager@${CERT_MANAGER_VERSION}`], {
    env: { ...env, GOWORK: 'off' },
    cwd: KUBE_DIR,
    maxBuffer: 1024 * 1024,
  });
  const { Dir: dir, Error: error } = JSON.parse(stdout) as { Dir?: string; Error?: string };
  if (!dir) throw new Error(`go mod download github.com/cert-manager/cert-manager@${CERT_MANAGER_VERSION} failed: ${error ?? stdout}`);
  const crds = path.join(dir, 'deploy', 'crds');
  await fs.access(path.join(crds, 'cert-manager.io_certificaterequests.yaml'));
  return crds;
}

if (isEntryPoint(import.meta.url)) {
  ensureKubeTools((message) => process.stderr.write(`${message}\n`)).then(
    (tools) => process.stdout.write(`${JSON.stringify(tools, null, 2)}\n`),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}

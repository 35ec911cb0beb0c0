/**
 * A real Kubernetes control plane for tests (issue 13): etcd and kube-apiserver (built by
 * devservices/kube-binaries.ts) on loopback, started with the flags controller-runtime's envtest uses — a
 * serving certificate from a throwaway CA, a static token file for the admin, service-account signing keys
 * (so TokenRequest mints real service-account tokens) and RBAC authorization. No kubelet, scheduler or
 * controller-manager: tests create the objects those would. cert-manager's CRDs are loaded from its Go module.
 *
 * Clients authenticate with a token: `admin` (group system:masters) sets things up; the code under test gets a
 * service-account token (`serviceAccountToken`) bound to the RBAC a test applies, never the admin's.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import https from 'node:https';
import fs from 'node:fs/promises';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { findFreePort } from '../../devservices/free-port.js';
import type { KubeTools } from '../../devservices/kube-binaries.js';
import { createLoopbackTls } from './loopback-tls.js';
import { startServerProcess, type ServerProcess } from './server-process.js';

export interface KubeControlPlane {
  /** https://127.0.0.1:<port> */
  server: string;
  /** PEM of the CA that signed the API server's certificate. */
  caPem: string;
  adminToken: string;
  /** A client config for `token` (default: the admin's). */
  kubeConfig(token?: string): k8s.KubeConfig;
  /** Writes a kubeconfig file for `token` (for a child process's KUBECONFIG) and returns its path. */
  writeKubeConfig(file: string, token: string): Promise<string>;
  stop(): Promise<void>;
}

export interface StartKubeControlPlaneOptions {
  tools: KubeTools;
  /** Holds etcd's data, the certificates and the token file; created if missing. */
  dir: string;
  log?: (line: string) => void;
}

const READY_TIMEOUT_MS = 120_000;

export async function startKubeControlPlane({ tools, dir, log }: StartKubeControlPlaneOptions): Promise<KubeControlPlane> {
  await fs.mkdir(dir, { recursive: true });
  const started: ServerProcess[] = [];
  const stop = async () => {
    // The API server first: it would log etcd's absence for as long as it runs.
    for (const server of started.reverse()) await server.stop();
  };
  try {
    const etcdUrl = await startEtcd(tools.etcd, dir, log, started);
    const plane = await startApiServer(tools.kubeApiserver, dir, etcdUrl, log, started, stop);
    await installCrds(plane.kubeConfig(), tools.certManagerCrdsDir);
    return plane;
  } catch (error) {
    await stop();
    throw error;
  }
}

async function startEtcd(binary: string, dir: string, log: StartKubeControlPlaneOptions['log'], started: ServerProcess[]): Promise<string> {
  const [clientPort, peerPort] = [await findFreePort(), await findFreePort()];
  const url = `http://127.0.0.1:${clientPort}`;
  const etcd = await startServerProcess({
    name: 'etcd',
    command: binary,
    args: [
      `--data-dir=${path.join(dir, 'etcd')}`,
      `--listen-client-urls=${url}`,
      `--advertise-client-urls=${url}`,
      `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-cluster=default=http://127.0.0.1:${peerPort}`,
      // A test cluster: durability across power loss buys nothing, and fsyncs are slow on a shared disk.
      '--unsafe-no-fsync',
      '--log-level=warn',
    ],
    ready: async () => (await fetch(`${url}/health`).then((r) => r.json() as Promise<{ health?: string }>).catch(() => null))?.health === 'true',
    readyTimeoutMs: READY_TIMEOUT_MS,
    log,
  });
  started.push(etcd);
  return url;
}

async function startApiServer(
  binary: string,
  dir: string,
  etcdUrl: string,
  log: StartKubeControlPlaneOptions['log'],
  started: ServerProcess[],
  stop: () => Promise<void>,
): Promise<KubeControlPlane> {
  const certDir = path.join(dir, 'pki');
  await fs.mkdir(certDir, { recursive: true });
  const tls = await createLoopbackTls(certDir, 'kube-apiserver');
  const caPem = await fs.readFile(tls.caPath, 'utf8');
  const serviceAccountKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const saPublic = path.join(certDir, 'service-account.pub');
  const saPrivate = path.join(certDir, 'service-account.key');
  await fs.writeFile(saPublic, serviceAccountKeys.publicKey.export({ type: 'spki', format: 'pem' }));
  await fs.writeFile(saPrivate, serviceAccountKeys.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const adminToken = randomBytes(24).toString('hex');
  const tokenFile = path.join(certDir, 'tokens.csv');
  await fs.writeFile(tokenFile, `${adminToken},admin,admin,"system:masters"\n`, { mode: 0o600 });

  const port = await findFreePort();
  const server = `https://127.0.0.1:${port}`;
  const kubeConfig = (token = adminToken) => {
    const config = new k8s.KubeConfig();
    config.loadFromOptions({
      clusters: [{ name: 'test', server, caData: Buffer.from(caPem).toString('base64') }],
      users: [{ name: 'user', token }],
      contexts: [{ name: 'test', cluster: 'test', user: 'user' }],
      currentContext: 'test',
    });
    return config;
  };
  const apiServer = await startServerProcess({
    name: 'kube-apiserver',
    command: binary,
    args: [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${port}`,
      `--cert-dir=${certDir}`,
      `--tls-cert-file=${tls.certPath}`,
      `--tls-private-key-file=${tls.keyPath}`,
      `--token-auth-file=${tokenFile}`,
      `--service-account-issuer=${server}/`,
      `--service-account-key-file=${saPublic}`,
      `--service-account-signing-key-file=${saPrivate}`,
      '--service-cluster-ip-range=10.0.0.0/24',
      '--authorization-mode=RBAC',
      // No controller-manager mints service-account tokens into Secrets for the admission plugin to check.
      '--disable-admission-plugins=ServiceAccount',
      '--allow-privileged=true',
      // The "kubernetes" Service's endpoints would name the advertise address, and loopback is refused there.
      '--endpoint-reconciler-type=none',
      '--v=0',
    ],
    ready: async () => (await httpsStatus(`${server}/readyz`, caPem, adminToken)) === 200,
    readyTimeoutMs: READY_TIMEOUT_MS,
    log,
  });
  started.push(apiServer);
  return {
    server,
    caPem,
    adminToken,
    kubeConfig,
    writeKubeConfig: async (file, token) => {
      await fs.writeFile(file, kubeConfig(token).exportConfig(), { mode: 0o600 });
      return file;
    },
    stop,
  };
}

function httpsStatus(url: string, ca: string, token: string): Promise<number | null> {
  return new Promise((resolve) => {
    const request = https.get(url, { ca, headers: { Authorization: `Bearer ${token}` }, timeout: 5_000 }, (response) => {
      response.resume();
      resolve(response.statusCode ?? null);
    });
    request.on('error', () => resolve(null));
    request.on('timeout', () => request.destroy());
  });
}

/** Creates (or leaves as they are) the objects of a multi-document YAML text; CRDs are waited for until established. */
export async function applyManifests(config: k8s.KubeConfig, yamlText: string): Promise<k8s.KubernetesObject[]> {
  const client = k8s.KubernetesObjectApi.makeApiClient(config);
  const objects = k8s.loadAllYaml(yamlText).filter((object): object is k8s.KubernetesObject => Boolean(object && (object as k8s.KubernetesObject).kind));
  const created: k8s.KubernetesObject[] = [];
  for (const object of objects) {
    try {
      created.push(await client.create(object as k8s.KubernetesObject & { metadata: { name: string } }));
    } catch (error) {
      if (!(error instanceof k8s.ApiException && error.code === 409)) throw error;
      created.push(object);
    }
  }
  const crds = config.makeApiClient(k8s.ApiextensionsV1Api);
  for (const object of objects.filter((o) => o.kind === 'CustomResourceDefinition')) {
    await waitFor(`CRD ${object.metadata?.name} established`, async () => {
      const crd = await crds.readCustomResourceDefinition({ name: object.metadata!.name! });
      return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ?? false;
    });
  }
  return created;
}

/** cert-manager's CRDs (Certificate, CertificateRequest, Issuer, ClusterIssuer, and ACME's Order, Challenge). */
async function installCrds(config: k8s.KubeConfig, crdsDir: string): Promise<void> {
  const files = (await fs.readdir(crdsDir)).filter((file) => file.endsWith('.yaml')).sort();
  for (const file of files) await applyManifests(config, await fs.readFile(path.join(crdsDir, file), 'utf8'));
}

/** A token of the service account `namespace/name` (created if missing), minted by the API server's TokenRequest. */
export async function serviceAccountToken(config: k8s.KubeConfig, namespace: string, name: string, expirationSeconds = 3600): Promise<string> {
  const core = config.makeApiClient(k8s.CoreV1Api);
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } }).catch((error: unknown) => {
    if (!(error instanceof k8s.ApiException && error.code === 409)) throw error;
  });
  const request = await core.createNamespacedServiceAccountToken({ namespace, name, body: { spec: { audiences: [], expirationSeconds } } });
  const token = request.status?.token;
  if (!token) throw new Error(`no token for service account ${namespace}/${name}`);
  return token;
}

export async function createNamespace(config: k8s.KubeConfig, name: string): Promise<void> {
  await config.makeApiClient(k8s.CoreV1Api).createNamespace({ body: { metadata: { name } } }).catch((error: unknown) => {
    if (!(error instanceof k8s.ApiException && error.code === 409)) throw error;
  });
}

export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000, intervalMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = null;
  for (;;) {
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

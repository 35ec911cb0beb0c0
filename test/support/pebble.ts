/**
 * pebble (Let's Encrypt's ACME test server) on loopback, as the reference the ACME conformance cases are
 * checked against before they run against Certflow's server: Debian's 2.4 (AcmeTools.pebble), which has no
 * ARI (RFC 9773), or the newer one with ARI (AcmeTools.pebbleAri). Pebble generates a new root and
 * intermediate on every start; its management interface serves them (/roots/0, /intermediates/0), each
 * certificate's revocation status (/cert-status-by-serial/<hex>) and, with ARI, sets the renewal info a
 * certificate gets (/set-renewal-info/).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import https from 'node:https';
import path from 'node:path';
import { findFreePort } from '../../devservices/free-port.js';
import { createLoopbackTls } from './loopback-tls.js';
import { startServerProcess, type ServerProcess } from './server-process.js';

/** An external account binding credential: key id and base64url MAC key. */
export interface Eab {
  kid: string;
  hmacKey: string;
}

export interface Pebble {
  directoryUrl: string;
  /** `https://127.0.0.1:<port>` of the management interface. */
  managementUrl: string;
  /** PEM file of the CA that ACME clients must trust for the TLS of the directory and management URLs. */
  caBundlePath: string;
  /** URL of pebble's issuing root (management interface, TLS trusted through caBundlePath). */
  rootsUrl: string;
  /** Pebble's issuing root, PEM: the trust anchor of the certificates it issues (`openssl verify -CAfile`). */
  rootPem(): Promise<string>;
  intermediatePem(): Promise<string>;
  /** A certificate's status by serial (hex), from the management interface. */
  certStatus(serialHex: string): Promise<{ status: 'Valid' | 'Revoked'; reason: number | null }>;
  /** The EAB credentials pebble knows (empty with `eab: 'off'`). */
  eabKeys: Eab[];
  /** The next of eabKeys, round robin (pebble lets one key bind any number of accounts). */
  eab(): Eab;
  /** The port pebble's validator connects to for http-01 (and tls-alpn-01) on the name's address. */
  httpPort: number;
  tlsPort: number;
  /** Whether the directory has renewalInfo (ARI). */
  ari: boolean;
  /** With ARI: the suggested window pebble answers for this certificate from now on. */
  setRenewalWindow(certPem: string, window: { start: Date; end: Date }): Promise<void>;
  /** With ARI: a suggested window that ended an hour ago (renew now). */
  makeRenewalDue(certPem: string): Promise<void>;
  process: ServerProcess;
  stop(): Promise<void>;
}

export interface StartPebbleOptions {
  /** Path of pebble (AcmeTools.pebble, or AcmeTools.pebbleAri). */
  binary: string;
  /** Dir for the config and TLS files (the caller's temp dir; not removed by stop). */
  dir: string;
  /** `host:port` of the DNS server pebble's validator resolves names with (Challtestsrv.dnsAddress). */
  dnsServer: string;
  /** 'required' (default): accounts need EAB; 'optional': EAB keys exist but are not required; 'off': none. */
  eab?: 'required' | 'optional' | 'off';
  /** Number of EAB keys (default 8). */
  eabKeyCount?: number;
  /** PEBBLE_VA_ALWAYS_VALID: every challenge passes without being checked. */
  alwaysValid?: boolean;
  /** PEBBLE_AUTHZREUSE, percent of orders reusing a valid authorization (default 0: every order has challenges). */
  authzReusePercent?: number;
  /** Default: a free port. */
  httpPort?: number;
  tlsPort?: number;
  log?: (line: string) => void;
}

export async function startPebble(opts: StartPebbleOptions): Promise<Pebble> {
  await fs.mkdir(opts.dir, { recursive: true });
  const tls = await createLoopbackTls(opts.dir, 'pebble');
  const ca = await fs.readFile(tls.caPath, 'utf8');
  const [acmePort, managementPort] = [await findFreePort(), await findFreePort()];
  const httpPort = opts.httpPort ?? (await findFreePort());
  const tlsPort = opts.tlsPort ?? (await findFreePort());
  const eabMode = opts.eab ?? 'required';
  const eabKeys: Eab[] =
    eabMode === 'off'
      ? []
      : Array.from({ length: opts.eabKeyCount ?? 8 }, (_, i) => ({ kid: `kid-${i + 1}`, hmacKey: randomBytes(32).toString('base64url') }));

  const config = {
    pebble: {
      listenAddress: `127.0.0.1:${acmePort}`,
      managementListenAddress: `127.0.0.1:${managementPort}`,
      certificate: tls.certPath,
      privateKey: tls.keyPath,
      httpPort,
      tlsPort,
      ocspResponderURL: '',
      externalAccountBindingRequired: eabMode === 'required',
      ...(eabKeys.length > 0 ? { externalAccountMACKeys: Object.fromEntries(eabKeys.map((k) => [k.kid, k.hmacKey])) } : {}),
    },
  };
  const configPath = path.join(opts.dir, 'pebble-config.json');
  await fs.writeFile(configPath, JSON.stringify(config, null, 2));

  const directoryUrl = `https://127.0.0.1:${acmePort}/dir`;
  const managementUrl = `https://127.0.0.1:${managementPort}`;
  const env = {
    ...process.env,
    PEBBLE_VA_NOSLEEP: '1',
    PEBBLE_WFE_NONCEREJECT: '0',
    PEBBLE_AUTHZREUSE: String(opts.authzReusePercent ?? 0),
    ...(opts.alwaysValid ? { PEBBLE_VA_ALWAYS_VALID: '1' } : {}),
  };
  const server = await startServerProcess({
    name: 'pebble',
    command: opts.binary,
    args: ['-config', configPath, '-dnsserver', opts.dnsServer],
    env,
    ready: async () => (await httpsGet(directoryUrl, ca)).status === 200 && (await httpsGet(`${managementUrl}/roots/0`, ca)).status === 200,
    log: opts.log,
  });

  const getOk = async (url: string) => {
    const response = await httpsGet(url, ca);
    if (response.status !== 200) throw new Error(`GET ${url}: HTTP ${response.status} ${response.body}`);
    return response.body;
  };
  const ari = 'renewalInfo' in (JSON.parse(await getOk(directoryUrl)) as Record<string, unknown>);
  const setRenewalWindow = async (certPem: string, window: { start: Date; end: Date }) => {
    if (!ari) throw new Error('this pebble has no ARI');
    // pebble serves ARIResponse verbatim as the certificate's renewalInfo.
    const ariResponse = JSON.stringify({ suggestedWindow: { start: window.start.toISOString(), end: window.end.toISOString() } });
    const response = await httpsRequest('POST', `${managementUrl}/set-renewal-info/`, ca, JSON.stringify({ Certificate: certPem, ARIResponse: ariResponse }));
    if (response.status !== 200) throw new Error(`set-renewal-info: HTTP ${response.status} ${response.body}`);
  };
  let next = 0;
  return {
    directoryUrl,
    managementUrl,
    caBundlePath: tls.caPath,
    rootsUrl: `${managementUrl}/roots/0`,
    rootPem: () => getOk(`${managementUrl}/roots/0`),
    intermediatePem: () => getOk(`${managementUrl}/intermediates/0`),
    certStatus: async (serialHex) => {
      const status = JSON.parse(await getOk(`${managementUrl}/cert-status-by-serial/${serialHex.toLowerCase()}`)) as { Status: 'Valid' | 'Revoked'; Reason?: number };
      return { status: status.Status, reason: status.Status === 'Revoked' ? (status.Reason ?? 0) : null };
    },
    eabKeys,
    eab: () => {
      const key = eabKeys[next++ % eabKeys.length];
      if (!key) throw new Error('pebble was started without EAB keys');
      return key;
    },
    httpPort,
    tlsPort,
    ari,
    setRenewalWindow,
    makeRenewalDue: (certPem) => setRenewalWindow(certPem, { start: new Date(Date.now() - 2 * 3600_000), end: new Date(Date.now() - 3600_000) }),
    process: server,
    stop: () => server.stop(),
  };
}

/** GET over HTTPS trusting only `ca` (fetch cannot take a CA). */
export async function httpsGet(url: string, ca: string): Promise<{ status: number; body: string }> {
  return await httpsRequest('GET', url, ca);
}

async function httpsRequest(method: string, url: string, ca: string, body?: string): Promise<{ status: number; body: string }> {
  return await new Promise((resolve, reject) => {
    // Newer pebbles answer 400 to a request without User-Agent (RFC 8555 §6.1 says clients MUST send one).
    const request = https.request(url, { method, ca, timeout: 10_000, headers: { 'user-agent': 'certflow-tests' } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`${method} ${url}: timed out`)));
    request.on('error', reject);
    request.end(body);
  });
}

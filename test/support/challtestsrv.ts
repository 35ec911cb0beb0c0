/**
 * pebble-challtestsrv (Debian's pebble package) on loopback as the mock DNS server of the ACME tests: it
 * answers A queries for any name with 127.0.0.1 (no AAAA, so validators connect to where the clients
 * listen) and serves the TXT records set through its management API, for dns-01. Its own http-01,
 * https-01 and tls-alpn-01 responders are off: the ACME clients under test answer those themselves.
 */
import net from 'node:net';
import { findFreePort } from '../../devservices/free-port.js';
import { startServerProcess, type ServerProcess } from './server-process.js';

export interface Challtestsrv {
  /** `127.0.0.1:<port>` of the DNS server (UDP and TCP), for pebble's -dnsserver and lego's --dns.resolvers. */
  dnsAddress: string;
  /** `http://127.0.0.1:<port>` of the management API. */
  managementUrl: string;
  /** Adds a TXT record (`host` with or without the trailing dot), e.g. `_acme-challenge.a.example.test`. */
  addTxt(host: string, value: string): Promise<void>;
  /** Removes all TXT records of `host`. */
  clearTxt(host: string): Promise<void>;
  /** Answers A queries for `host` with `addresses` instead of the default 127.0.0.1. */
  addA(host: string, addresses: string[]): Promise<void>;
  clearA(host: string): Promise<void>;
  process: ServerProcess;
  stop(): Promise<void>;
}

export interface StartChalltestsrvOptions {
  /** Path of pebble-challtestsrv (AcmeTools.pebbleChalltestsrv). */
  binary: string;
  log?: (line: string) => void;
}

export async function startChalltestsrv(opts: StartChalltestsrvOptions): Promise<Challtestsrv> {
  const dnsPort = await findFreePort();
  const managementPort = await findFreePort();
  const args = [
    '-dns01', `127.0.0.1:${dnsPort}`,
    '-management', `127.0.0.1:${managementPort}`,
    '-http01', '',
    '-https01', '',
    '-tlsalpn01', '',
    '-defaultIPv4', '127.0.0.1',
    '-defaultIPv6', '',
  ];
  const server = await startServerProcess({
    name: 'challtestsrv',
    command: opts.binary,
    args,
    ready: async () => (await canConnect(managementPort)) && (await canConnect(dnsPort)),
    log: opts.log,
  });
  const managementUrl = `http://127.0.0.1:${managementPort}`;
  const post = async (endpoint: string, body: unknown) => {
    const response = await fetch(`${managementUrl}${endpoint}`, { method: 'POST', body: JSON.stringify(body) });
    if (!response.ok) throw new Error(`challtestsrv ${endpoint}: HTTP ${response.status} ${await response.text()}`);
  };
  return {
    dnsAddress: `127.0.0.1:${dnsPort}`,
    managementUrl,
    addTxt: (host, value) => post('/set-txt', { host: fqdn(host), value }),
    clearTxt: (host) => post('/clear-txt', { host: fqdn(host) }),
    addA: (host, addresses) => post('/add-a', { host: fqdn(host), addresses }),
    clearA: (host) => post('/clear-a', { host: fqdn(host) }),
    process: server,
    stop: () => server.stop(),
  };
}

function fqdn(host: string): string {
  return host.endsWith('.') ? host : `${host}.`;
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
export async function canConnect(port: number): Promise<boolean> {
  return await new Promise<boolean>((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

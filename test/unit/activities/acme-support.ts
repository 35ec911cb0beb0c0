/** Local servers and a DestinationGuard for the ACME challenge validation tests. */
import { randomBytes } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { calculateJwkThumbprint, exportJWK, generateKeyPair as generateJoseKeyPair } from 'jose';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { createSecureContext, createServer as createTlsServer } from 'node:tls';
import { DEFAULT_ACME_VALIDATION_CONFIG, type AcmeValidationConfig } from '../../../activities/acme-validation-config.js';
import type { AcmeValidationDeps } from '../../../activities/acme-challenge-validation.js';
import { DestinationGuard } from '../../../activities/destination-guard.js';
import { keyAuthorization } from '../../../core/acme-key-authorization.js';
import type { DestinationHostPolicy, PlatformDestinationRules } from '../../../core/destination-hosts.js';

export const POLICY: DestinationHostPolicy = { zones: ['example.test'], cidrs: ['127.0.0.0/8'], ports: [] };

/** Loopback is an exception to the deny list here (the servers live on it); the rest of the list holds. */
export const LOOPBACK_ALLOWED: PlatformDestinationRules = { services: [], allowedExceptions: ['127.0.0.0/8'], extraDenied: [] };

/** What the test's "DNS" answers for the guard's A/AAAA lookups: addresses, or an error code. */
export const HOSTS: Record<string, string[] | 'ENOTFOUND' | 'EAI_AGAIN'> = {
  'www.example.test': ['127.0.0.1'],
  'redirect.example.test': ['127.0.0.1'],
  'metadata.example.test': ['169.254.169.254'],
  'nx.example.test': 'ENOTFOUND',
  'flaky.example.test': 'EAI_AGAIN',
  'www.other.test': ['127.0.0.1'],
};

export function guard(rules: PlatformDestinationRules = LOOPBACK_ALLOWED): DestinationGuard {
  return new DestinationGuard(rules, async (name) => {
    const answer = HOSTS[name] ?? 'ENOTFOUND';
    if (typeof answer === 'string') throw Object.assign(new Error(`getaddrinfo ${answer} ${name}`), { code: answer });
    return answer;
  });
}

export function deps(config: Partial<AcmeValidationConfig>, destinationGuard: DestinationGuard = guard()): AcmeValidationDeps {
  return { destinationGuard, acmeValidation: { ...DEFAULT_ACME_VALIDATION_CONFIG, timeoutMs: 2_000, ...config } };
}

export interface LocalServer {
  port: number;
  close(): Promise<void>;
}

export interface HttpServer extends LocalServer {
  /** Requests seen: path and Host header. */
  requests: { path: string; host: string | undefined }[];
}

export async function startHttpServer(handle: (request: IncomingMessage, response: ServerResponse) => void): Promise<HttpServer> {
  const requests: HttpServer['requests'] = [];
  const server = tracked(createHttpServer((request, response) => {
    requests.push({ path: request.url ?? '', host: request.headers.host });
    handle(request, response);
  }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, requests, close: () => closeAll(server) };
}

export interface TlsServer extends LocalServer {
  /** SNI names clients sent (a client without SNI adds nothing). */
  sniSeen: string[];
}

/** A TLS server presenting `certificate`, offering `alpn` (none: no ALPN at all). */
export async function startTlsServer(certificate: { certificatePem: string; keyPem: string }, alpn: string[] | null): Promise<TlsServer> {
  const sniSeen: string[] = [];
  const context = createSecureContext({ cert: certificate.certificatePem, key: certificate.keyPem });
  const server = tracked(
    createTlsServer(
      {
        cert: certificate.certificatePem,
        key: certificate.keyPem,
        ...(alpn ? { ALPNProtocols: alpn } : {}),
        // At the ClientHello: a client may finish its handshake before the server's side completes.
        SNICallback: (name, callback) => {
          sniSeen.push(name);
          callback(null, context);
        },
      },
      (socket) => {
        socket.on('error', () => undefined);
        socket.end();
      },
    ),
  );
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, sniSeen, close: () => closeAll(server) };
}

/** A TCP server that accepts and then does `onConnection` (nothing: it never answers). */
export async function startTcpServer(onConnection: (socket: Socket) => void = () => undefined): Promise<LocalServer & { connections: () => number }> {
  let connections = 0;
  const server = tracked(
    createTcpServer((socket) => {
      connections++;
      socket.on('error', () => undefined);
      onConnection(socket);
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, connections: () => connections, close: () => closeAll(server) };
}

/** A port nothing listens on (it was bound a moment ago, so nothing else took it). */
export async function closedPort(): Promise<number> {
  const server = await startTcpServer();
  await server.close();
  return server.port;
}

/** Stops listening and drops the connections still open (a test's client may have left one hanging). */
function closeAll(server: NetServer): Promise<void> {
  const sockets = openSockets.get(server) ?? new Set();
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    for (const socket of sockets) socket.destroy();
  });
}

const openSockets = new WeakMap<NetServer, Set<Socket>>();

function tracked<T extends NetServer>(server: T): T {
  const sockets = new Set<Socket>();
  openSockets.set(server, sockets);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return server;
}

/** A token and its key authorization under a fresh account key. */
export async function challengeKeys(): Promise<{ token: string; keyAuthorization: string }> {
  const { publicKey } = await generateJoseKeyPair('ES256');
  const token = randomBytes(32).toString('base64url');
  return { token, keyAuthorization: keyAuthorization(token, await calculateJwkThumbprint(await exportJWK(publicKey), 'sha256')) };
}

/** What a transient failure looks like to the caller: retryable, and the problem to record if it persists. */
export async function transientFailure(pending: Promise<unknown>): Promise<{ type: string | undefined; nonRetryable: boolean; problem: unknown; message: string }> {
  const error = await pending.then(
    (value) => {
      throw new Error(`expected a thrown failure, got ${JSON.stringify(value)}`);
    },
    (error: unknown) => error,
  );
  if (!(error instanceof ApplicationFailure)) throw error;
  return { type: error.type ?? undefined, nonRetryable: error.nonRetryable === true, problem: error.details?.[0], message: error.message };
}

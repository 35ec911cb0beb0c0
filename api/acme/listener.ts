/**
 * The HTTPS listener ACME clients talk to (CERTFLOW_ACME_PORT). It listens once Certflow has
 * issued its certificate (api/acme/server-certificate.ts), and picks up each renewed version
 * without a restart (TLS context swapped in place).
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import type { ServerTls } from './server-certificate.js';

const CERTIFICATE_POLL_MS = 1_000;
const RELOAD_CHECK_MS = 60_000;

export interface AcmeListener {
  /** Resolves with the URL once the listener serves. */
  ready: Promise<string>;
  stop(): Promise<void>;
}

export function startAcmeListener(
  app: Hono,
  options: { host: string; port: number; currentTls: () => Promise<ServerTls | null>; log: (message: string) => void },
): AcmeListener {
  let server: Server | null = null;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  const sleep = (ms: number) => new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));

  const ready = (async () => {
    let tls: ServerTls | null = null;
    for (let waited = 0; !stopped; waited += CERTIFICATE_POLL_MS) {
      tls = await options.currentTls().catch(() => null);
      if (tls) break;
      if (waited % 30_000 === 0) options.log('ACME listener: waiting for the worker to issue its TLS certificate');
      await sleep(CERTIFICATE_POLL_MS);
    }
    if (!tls) throw new Error('stopped');
    const listening = await new Promise<Server>((resolve, reject) => {
      const s = serve({ fetch: app.fetch, port: options.port, hostname: options.host, createServer, serverOptions: { key: tls.key, cert: tls.cert } }, () => resolve(s as Server));
      (s as Server).once('error', reject);
    });
    server = listening;
    let servedVersion = tls.versionId;
    void (async () => {
      while (!stopped) {
        await sleep(RELOAD_CHECK_MS);
        const next = await options.currentTls().catch(() => null);
        if (next && next.versionId !== servedVersion) {
          listening.setSecureContext({ key: next.key, cert: next.cert });
          servedVersion = next.versionId;
          options.log(`ACME listener: now serving certificate version ${next.versionId}`);
        }
      }
    })();
    const { port } = listening.address() as AddressInfo;
    return `https://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`;
  })();
  ready.catch(() => undefined);

  return {
    ready,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
    },
  };
}

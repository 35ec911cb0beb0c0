/**
 * A small TCP round-robin proxy that puts several API processes behind one port (plain HTTP and the ACME HTTPS
 * listener alike: it forwards bytes, TLS passes through). Health-aware: each upstream's health URL (its `/readyz`)
 * is polled, new connections go to healthy upstreams in turn, and a connection an upstream refuses is retried on
 * the next one. When none is healthy it still tries them all, so a shared outage (Postgres down) shows as the
 * API's own 503 rather than as a refused connection. For this machine and docker-compose.yml; production has a load balancer.
 *
 * As a script (docker-compose.yml): `tsx devservices/round-robin-proxy.ts <listen host:port> <upstream>...`,
 * an upstream being `host:port` or `host:port@<health URL>` (default `http://host:port/readyz`).
 */
import net from 'node:net';
import { isEntryPoint } from './process-helpers.js';

export interface Upstream {
  host: string;
  port: number;
  healthUrl: string;
}

export interface RoundRobinProxy {
  port: number;
  /** Upstreams whose last health check passed. */
  healthy(): Upstream[];
  close(): Promise<void>;
}

const HEALTH_INTERVAL_MS = 1_000;
const HEALTH_TIMEOUT_MS = 2_000;
const CONNECT_TIMEOUT_MS = 3_000;

export async function startRoundRobinProxy(opts: { host: string; port: number; upstreams: Upstream[]; log?: (m: string) => void }): Promise<RoundRobinProxy> {
  const log = opts.log ?? (() => {});
  const health = new Map<Upstream, boolean>(opts.upstreams.map((upstream) => [upstream, true]));
  let next = 0;

  const checkAll = async () => {
    await Promise.all(
      opts.upstreams.map(async (upstream) => {
        const ok = await fetch(upstream.healthUrl, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) }).then((r) => r.ok, () => false);
        if (ok !== health.get(upstream)) log(`upstream ${upstream.host}:${upstream.port} is ${ok ? 'healthy again' : 'unhealthy'}`);
        health.set(upstream, ok);
      }),
    );
  };
  await checkAll();
  let checking = false;
  const timer = setInterval(() => {
    if (checking) return;
    checking = true;
    void checkAll().finally(() => (checking = false));
  }, HEALTH_INTERVAL_MS);

  /** Healthy upstreams first, in round-robin order, then the others. */
  const candidates = (): Upstream[] => {
    const start = next++ % opts.upstreams.length;
    const rotated = [...opts.upstreams.slice(start), ...opts.upstreams.slice(0, start)];
    return [...rotated.filter((u) => health.get(u)), ...rotated.filter((u) => !health.get(u))];
  };

  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    client.pause();
    open.add(client);
    client.on('close', () => open.delete(client));
    client.on('error', () => client.destroy());
    const tryConnect = (remaining: Upstream[]) => {
      const upstream = remaining[0];
      if (!upstream) {
        client.destroy();
        return;
      }
      let connected = false;
      const socket = net.connect({ host: upstream.host, port: upstream.port });
      socket.setTimeout(CONNECT_TIMEOUT_MS, () => socket.destroy(new Error('connect timeout')));
      socket.on('error', () => {
        if (connected) return client.destroy();
        health.set(upstream, false);
        tryConnect(remaining.slice(1));
      });
      socket.once('connect', () => {
        connected = true;
        socket.setTimeout(0);
        open.add(socket);
        client.on('close', () => socket.destroy());
        socket.on('close', () => {
          open.delete(socket);
          client.destroy();
        });
        client.pipe(socket);
        socket.pipe(client);
        client.resume();
      });
    };
    tryConnect(candidates());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    healthy: () => opts.upstreams.filter((u) => health.get(u)),
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(timer);
        server.close(() => resolve());
        for (const socket of open) socket.destroy();
      }),
  };
}

export function parseUpstream(spec: string): Upstream {
  const [address = '', healthUrl] = spec.split('@');
  const separator = address.lastIndexOf(':');
  const host = address.slice(0, separator);
  const port = Number(address.slice(separator + 1));
  if (!host || !Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`bad upstream ${spec}: expected host:port[@health URL]`);
  return { host, port, healthUrl: healthUrl ?? `http://${host}:${port}/readyz` };
}

if (isEntryPoint(import.meta.url)) {
  const [listen, ...upstreamSpecs] = process.argv.slice(2);
  if (!listen || upstreamSpecs.length === 0) {
    process.stderr.write('usage: tsx devservices/round-robin-proxy.ts <host:port> <upstream host:port[@health URL]>...\n');
    process.exit(2);
  }
  const separator = listen.lastIndexOf(':');
  void startRoundRobinProxy({
    host: listen.slice(0, separator),
    port: Number(listen.slice(separator + 1)),
    upstreams: upstreamSpecs.map(parseUpstream),
    log: (m) => process.stdout.write(`${m}\n`),
  }).then((proxy) => {
    process.stdout.write(`proxy on ${listen} -> ${upstreamSpecs.join(', ')}\n`);
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void proxy.close().then(() => process.exit(0)));
  });
}

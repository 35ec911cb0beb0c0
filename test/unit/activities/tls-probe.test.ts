import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalSerial, probeTlsEndpoint } from '../../../activities/tls-probe.js';
import { issueTestLeaf, startTlsServer, type TestLeaf, type TestTlsServer } from './tls-support.js';

let leafDefault: TestLeaf;
let leafA: TestLeaf;
let leafB: TestLeaf;
let tls: TestTlsServer;

beforeAll(async () => {
  // The first octet 0x0a checks the serial format against what certificate_versions stores (lower-case, leading 0 nibble kept).
  leafDefault = await issueTestLeaf('default.example.test', '0a00000000000000000000000000000d');
  leafA = await issueTestLeaf('a.example.test', '7fa1a2a3a4a5a6a7a8a9aaabacadaeaf');
  leafB = await issueTestLeaf('b.example.test', '1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b');
  tls = await startTlsServer(leafDefault, { 'a.example.test': leafA, 'b.example.test': leafB });
});

afterAll(async () => {
  await tls.close();
});

/** A TCP server of the test's own: `onConnection` decides what a client gets instead of TLS. */
async function startTcpServer(onConnection: (socket: Socket) => void): Promise<{ server: TcpServer; port: number; sockets: Socket[]; closed: () => number }> {
  const sockets: Socket[] = [];
  let closed = 0;
  const server = createTcpServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => closed++);
    socket.resume(); // read (and drop) what the client sends, so its hang-up is noticed
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, sockets, closed: () => closed };
}

async function closeTcp(tcp: { server: TcpServer; sockets: Socket[] }): Promise<void> {
  for (const socket of tcp.sockets) socket.destroy();
  await new Promise<void>((resolve) => tcp.server.close(() => resolve()));
}

describe('probeTlsEndpoint', () => {
  it('ok/reports the fingerprint, serial and notAfter of the served leaf in the stored formats', async () => {
    const served = await probeTlsEndpoint({ host: '127.0.0.1', port: tls.port, serverName: 'a.example.test' }, 2_000);
    expect(served).toEqual({ fingerprintSha256: leafA.fingerprintSha256, serial: leafA.serial, notAfter: leafA.notAfter });
    expect(served.fingerprintSha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('ok/keeps the leading zero nibble of a serial', async () => {
    const served = await probeTlsEndpoint({ host: '127.0.0.1', port: tls.port }, 2_000);
    expect(served.serial).toBe('0a00000000000000000000000000000d');
  });

  it('ok/selects the certificate by SNI', async () => {
    tls.sniSeen.length = 0;
    const a = await probeTlsEndpoint({ host: '127.0.0.1', port: tls.port, serverName: 'a.example.test' }, 2_000);
    const b = await probeTlsEndpoint({ host: '127.0.0.1', port: tls.port, serverName: 'b.example.test' }, 2_000);
    const other = await probeTlsEndpoint({ host: '127.0.0.1', port: tls.port, serverName: 'other.example.test' }, 2_000);
    expect([a.fingerprintSha256, b.fingerprintSha256, other.fingerprintSha256]).toEqual([
      leafA.fingerprintSha256,
      leafB.fingerprintSha256,
      leafDefault.fingerprintSha256,
    ]);
    expect(tls.sniSeen).toEqual(['a.example.test', 'b.example.test', 'other.example.test']);
  });

  it('ok/sends no SNI when none is given or the name is an IP literal', async () => {
    tls.sniSeen.length = 0;
    const none = await probeTlsEndpoint({ host: '127.0.0.1', port: tls.port }, 2_000);
    const ip = await probeTlsEndpoint({ host: '127.0.0.1', port: tls.port, serverName: '127.0.0.1' }, 2_000);
    const ipv6 = await probeTlsEndpoint({ host: '127.0.0.1', port: tls.port, serverName: '::1' }, 2_000);
    for (const served of [none, ip, ipv6]) expect(served.fingerprintSha256).toBe(leafDefault.fingerprintSha256);
    expect(tls.sniSeen).toEqual([]);
  });

  it('ok/closes its connection once it has the certificate', async () => {
    let closed!: () => void;
    const serverSawClose = new Promise<void>((resolve) => (closed = resolve));
    const onConnection = (socket: Socket) => socket.once('close', () => closed());
    tls.server.once('connection', onConnection);
    await probeTlsEndpoint({ host: '127.0.0.1', port: tls.port }, 2_000);
    await expect(serverSawClose).resolves.toBeUndefined();
  });

  it('fail/connection refused', async () => {
    const tcp = await startTcpServer(() => undefined);
    await closeTcp(tcp);
    await expect(probeTlsEndpoint({ host: '127.0.0.1', port: tcp.port }, 2_000)).rejects.toThrow(`127.0.0.1:${tcp.port}: connection refused`);
  });

  it('fail/timeout when the endpoint never answers the handshake', async () => {
    const tcp = await startTcpServer(() => undefined);
    try {
      const started = Date.now();
      await expect(probeTlsEndpoint({ host: '127.0.0.1', port: tcp.port }, 300)).rejects.toThrow(
        `127.0.0.1:${tcp.port}: TLS handshake did not complete within 300 ms`,
      );
      expect(Date.now() - started).toBeLessThan(2_000);
      // The probe let go of the connection when it gave up.
      await expect.poll(() => tcp.closed()).toBe(1);
    } finally {
      await closeTcp(tcp);
    }
  });

  it('fail/handshake failure when the endpoint does not speak TLS', async () => {
    const tcp = await startTcpServer((socket) => socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n'));
    try {
      await expect(probeTlsEndpoint({ host: '127.0.0.1', port: tcp.port }, 2_000)).rejects.toThrow(
        new RegExp(`^127\\.0\\.0\\.1:${tcp.port}: (TLS handshake failed|the endpoint (closed|reset) the connection during the TLS handshake)`),
      );
    } finally {
      await closeTcp(tcp);
    }
  });

  it('ok/connects to the checked addresses it is given, never asking DNS for the host', async () => {
    // .invalid never resolves (RFC 6761): the probe can only have reached the address it was given.
    const served = await probeTlsEndpoint({ host: 'service.invalid', port: tls.port, serverName: 'b.example.test', addresses: ['127.0.0.1'] }, 2_000);
    expect(served.serial).toBe(leafB.serial);
  });

  it('fail/host not found', async () => {
    await expect(probeTlsEndpoint({ host: 'no-such-host.invalid', port: 443 }, 5_000)).rejects.toThrow(/no-such-host\.invalid:443: host not found/);
  });
});

describe('canonicalSerial', () => {
  it.each([
    ['0A1B', '0a1b'],
    ['00FF', 'ff'],
    ['00', '00'],
    ['7F:00:01', '7f0001'],
  ])('%s → %s', (input, output) => {
    expect(canonicalSerial(input)).toBe(output);
  });
});

/** Real TLS servers on 127.0.0.1 serving leaves issued by the project's own reference builder. */
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createSecureContext, createServer, type SecureContext, type Server } from 'node:tls';
import { exportPrivateKeyPkcs8, generateKeyPair, privateKeyPem } from '../../../ca/keys.js';
import { buildLeafCertificate } from '../../support/reference-leaf.js';
import { buildHierarchy, NOW, type Hierarchy } from '../ca/support.js';

export interface TestLeaf {
  certificatePem: string;
  keyPem: string;
  serial: string;
  fingerprintSha256: string;
  notAfter: Date;
  context: SecureContext;
}

let hierarchy: Promise<Hierarchy> | null = null;

export async function issueTestLeaf(dnsName: string, serial: string): Promise<TestLeaf> {
  hierarchy ??= buildHierarchy();
  const { issuer } = await hierarchy;
  const keys = await generateKeyPair('ECDSA-P256');
  const leaf = await buildLeafCertificate(issuer, {
    serial,
    commonName: dnsName,
    dnsNames: [dnsName],
    ipAddresses: [],
    uris: [],
    profile: 'tls-server',
    subjectPublicKey: keys.publicKey,
    subjectKeyAlgorithm: 'ECDSA-P256',
    issuedAt: NOW,
    validitySeconds: 30 * 86_400,
  });
  const certificatePem = leaf.toString('pem');
  const keyPem = privateKeyPem(await exportPrivateKeyPkcs8(keys.privateKey));
  return {
    certificatePem,
    keyPem,
    serial,
    fingerprintSha256: createHash('sha256').update(Buffer.from(leaf.rawData)).digest('hex'),
    notAfter: leaf.notAfter,
    context: createSecureContext({ cert: certificatePem, key: keyPem }),
  };
}

export interface TestTlsServer {
  server: Server;
  port: number;
  /** Names the clients sent as SNI, in order (a client without SNI adds nothing). */
  sniSeen: string[];
  /** Serves `leaf` from now on (to clients without SNI or with a name not in `byName`). */
  serve(leaf: TestLeaf): void;
  close(): Promise<void>;
}

/** A TLS server that answers by SNI from `byName`, else with the default leaf. */
export async function startTlsServer(defaultLeaf: TestLeaf, byName: Record<string, TestLeaf> = {}): Promise<TestTlsServer> {
  let current = defaultLeaf;
  const sniSeen: string[] = [];
  const server = createServer({
    cert: defaultLeaf.certificatePem,
    key: defaultLeaf.keyPem,
    SNICallback: (name, callback) => {
      sniSeen.push(name);
      callback(null, (byName[name] ?? current).context);
    },
  });
  server.on('secureConnection', (socket) => {
    socket.on('error', () => undefined);
    socket.end();
  });
  // Probes hang up right after the handshake; that is expected.
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    sniSeen,
    serve(leaf) {
      current = leaf;
      server.setSecureContext({ cert: leaf.certificatePem, key: leaf.keyPem });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Which certificate does a TLS endpoint serve? Connects, completes the handshake and reads the
 * leaf. Trust is not checked (rejectUnauthorized: false): the question is whether the endpoint
 * serves exactly the certificate we issued, which the fingerprint answers.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { connect } from 'node:tls';
import { inClientSpan } from './client-span.js';
import { pinnedLookup } from './destination-guard.js';

export interface ProbeTarget {
  host: string;
  port: number;
  /** SNI name; not sent when absent or an IP literal (RFC 6066 §3 allows host names only). */
  serverName?: string | undefined;
  /** The checked addresses of `host` (DestinationGuard.admit): the only ones connected to. Absent: the system resolver's. */
  addresses?: string[] | undefined;
}

export interface ServedCertificate {
  /** SHA-256 of the leaf's DER, lower-case hex without separators (as certificate_versions stores it). */
  fingerprintSha256: string;
  /** Lower-case hex without leading zero octets (as certificate_versions stores Certflow's serials). */
  serial: string;
  notAfter: Date;
}

export function probeTlsEndpoint(target: ProbeTarget, timeoutMs: number): Promise<ServedCertificate> {
  const attributes = { 'server.address': target.host, 'server.port': target.port, ...(target.serverName ? { 'tls.client.server_name': target.serverName } : {}) };
  return inClientSpan('tls.probe', attributes, async (span) => {
    const served = await probe(target, timeoutMs);
    span.setAttribute('certflow.served.serial', served.serial);
    return served;
  });
}

function probe(target: ProbeTarget, timeoutMs: number): Promise<ServedCertificate> {
  const where = `${target.host}:${target.port}`;
  const servername = target.serverName && !isIP(target.serverName) ? target.serverName : undefined;
  return new Promise((resolve, reject) => {
    let tcpConnected = false;
    let settled = false;
    const socket = connect({
      host: target.host,
      port: target.port,
      rejectUnauthorized: false,
      ...(servername ? { servername } : {}),
      ...(target.addresses ? { lookup: pinnedLookup(target.addresses) } : {}),
    });
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      outcome();
    };
    const fail = (message: string) => finish(() => reject(new Error(`${where}: ${message}`)));
    const timer = setTimeout(
      () => fail(tcpConnected ? `TLS handshake did not complete within ${timeoutMs} ms` : `connection timed out after ${timeoutMs} ms`),
      timeoutMs,
    );

    socket.once('connect', () => {
      tcpConnected = true;
    });
    socket.once('secureConnect', () => {
      const raw = socket.getPeerCertificate().raw as Buffer | undefined;
      if (!raw || raw.length === 0) return fail('the endpoint completed the handshake without a certificate');
      try {
        const served = describeCertificate(raw);
        finish(() => resolve(served));
      } catch (error) {
        fail(`the served certificate cannot be parsed: ${(error as Error).message}`);
      }
    });
    socket.once('error', (error: NodeJS.ErrnoException) => fail(describeSocketError(error, tcpConnected)));
    socket.once('close', () => fail(tcpConnected ? 'the endpoint closed the connection during the TLS handshake' : 'the connection closed before it was established'));
  });
}

export function describeCertificate(der: Buffer): ServedCertificate {
  const certificate = new X509Certificate(der);
  return {
    fingerprintSha256: createHash('sha256').update(der).digest('hex'),
    serial: canonicalSerial(certificate.serialNumber),
    notAfter: new Date(certificate.validTo),
  };
}

/** OpenSSL prints serials as upper-case hex; Certflow stores lower-case without leading zero octets. */
export function canonicalSerial(hex: string): string {
  const lower = hex.toLowerCase().replace(/:/g, '');
  return lower.replace(/^(00)+(?=..)/, '');
}

function describeSocketError(error: NodeJS.ErrnoException, tcpConnected: boolean): string {
  switch (error.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `host not found (${error.code})`;
    case 'ECONNRESET':
      return tcpConnected ? 'the endpoint reset the connection during the TLS handshake' : 'connection reset';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `unreachable (${error.code})`;
    default:
      return tcpConnected ? `TLS handshake failed: ${error.message}` : `cannot connect: ${error.message}`;
  }
}

/**
 * tls-alpn-01 (RFC 8737 §3): a TLS handshake with the identifier's host on the tls-alpn-01 port,
 * SNI the name (for an IP address its reverse-mapping name, RFC 8738 §6), offering only the
 * `acme-tls/1` protocol. The server must negotiate it and present the validation certificate
 * (ca/acme-tls-alpn.ts). Trust is not checked: that certificate is self-signed on purpose.
 */
import { connect, type TLSSocket } from 'node:tls';
import { checkTlsAlpnCertificate } from '../ca/acme-tls-alpn.js';
import { tlsAlpnServerName, type AcmeIdentifier } from '../core/acme-challenge-targets.js';
import { invalid, type ChallengeValidationResult } from '../core/acme-validation-outcome.js';
import type { DestinationHostPolicy } from '../core/destination-hosts.js';
import { admitTarget, connectionFailure, type AcmeValidationDeps } from './acme-validation-support.js';
import { pinnedLookup } from './destination-guard.js';

export const ACME_TLS_ALPN_PROTOCOL = 'acme-tls/1';

export interface TlsAlpn01Input {
  /** Canonical (core/acme-challenge-targets.ts challengeIdentifier). */
  identifier: AcmeIdentifier;
  keyAuthorization: string;
  policy: DestinationHostPolicy | undefined;
}

interface Handshake {
  alpnProtocol: string | false | null;
  certificate: Buffer | null;
}

export async function validateTlsAlpn01(deps: AcmeValidationDeps, input: TlsAlpn01Input): Promise<ChallengeValidationResult> {
  const { tlsAlpnPort: port, timeoutMs } = deps.acmeValidation;
  const addresses = await admitTarget(deps, input.policy, input.identifier.value, port);
  if (!Array.isArray(addresses)) return addresses;
  const where = `TLS ${input.identifier.value.includes(':') ? `[${input.identifier.value}]` : input.identifier.value}:${port}`;
  const stage = { tcpConnected: false, tls: true };
  let handshake: Handshake;
  try {
    handshake = await handshakeWith(input.identifier.value, port, tlsAlpnServerName(input.identifier), addresses, timeoutMs, stage);
  } catch (error) {
    return connectionFailure(error, where, stage, timeoutMs);
  }
  if (handshake.alpnProtocol !== ACME_TLS_ALPN_PROTOCOL) {
    return invalid('tls', `${where}: the server did not negotiate ${ACME_TLS_ALPN_PROTOCOL} (${handshake.alpnProtocol ? `it chose ${handshake.alpnProtocol}` : 'no ALPN protocol'})`);
  }
  if (!handshake.certificate) return invalid('tls', `${where}: the server presented no certificate`);
  const check = checkTlsAlpnCertificate(handshake.certificate, input.identifier, input.keyAuthorization);
  return check.ok ? { status: 'valid' } : invalid('incorrectResponse', `${where}: the validation certificate is not right: ${check.detail}`);
}

/** Completes one handshake with the checked addresses only and hangs up. */
function handshakeWith(host: string, port: number, servername: string, addresses: string[], timeoutMs: number, stage: { tcpConnected: boolean }): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const socket: TLSSocket = connect({ host, port, servername, ALPNProtocols: [ACME_TLS_ALPN_PROTOCOL], rejectUnauthorized: false, lookup: pinnedLookup(addresses) });
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      outcome();
    };
    const timer = setTimeout(() => finish(() => reject(Object.assign(new Error('timed out'), { name: 'TimeoutError' }))), timeoutMs);
    socket.once('connect', () => (stage.tcpConnected = true));
    socket.once('secureConnect', () => {
      const raw = socket.getPeerCertificate().raw as Buffer | undefined;
      finish(() => resolve({ alpnProtocol: socket.alpnProtocol, certificate: raw && raw.length > 0 ? raw : null }));
    });
    socket.once('error', (error) => finish(() => reject(error)));
    socket.once('close', () => finish(() => reject(Object.assign(new Error('the connection closed during the TLS handshake'), { code: 'ECONNRESET' }))));
  });
}

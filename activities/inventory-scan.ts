/**
 * One endpoint of an inventory scan (workflows/inventory-scan.ts): admitted by the destination guard
 * against the team's `destinationHosts` and the platform's deny list (the connection goes to the
 * checked addresses only), TLS handshake without trust checks, the served chain read. The leaf is
 * recorded as a `discovered` certificate of the team, or linked when it is one Certflow issued to the
 * team; the sighting (endpoint, SNI, chain) is recorded or its last-seen time moved on. Idempotent.
 */
import { isIP } from 'node:net';
import { connect, type DetailedPeerCertificate } from 'node:tls';
import { ApplicationFailure } from '@temporalio/common';
import { readCertificateDer } from '../ca/pem-bundle.js';
import { BUSINESS_ERROR_TYPES } from '../core/errors.js';
import { inventoryPolicyFindings } from '../core/inventory-policy.js';
import type { ScanEndpoint } from '../core/scan-targets.js';
import { findTeamCertflowCertificate, recordExternalCertificate, recordSighting } from '../db/inventory.js';
import { findTeam } from '../db/teams.js';
import type { ActivityDeps } from './deps.js';
import { DestinationRefused, pinnedLookup } from './destination-guard.js';

const HANDSHAKE_TIMEOUT_MS = 10_000;

export interface ScanEndpointInput {
  scanId: string;
  teamId: string;
  target: ScanEndpoint;
  serverName?: string;
  requestedBy: string;
  requestedByPrincipal: string | null;
}

export interface ScanEndpointResult {
  endpoint: string;
  /** `discovered`: recorded (new or seen again); `linked`: the team's own Certflow certificate. */
  outcome: 'discovered' | 'linked';
  certificateId: string;
  created: boolean;
  fingerprintSha256: string;
  notAfter: string;
}

export async function scanEndpoint(deps: ActivityDeps, input: ScanEndpointInput): Promise<ScanEndpointResult> {
  const team = await findTeam(deps.db, input.teamId);
  if (!team) throw ApplicationFailure.nonRetryable(`team ${input.teamId} no longer exists`, BUSINESS_ERROR_TYPES.invalidRequest);
  let addresses: string[];
  try {
    addresses = await deps.destinationGuard.admit(team.policy.destinationHosts, input.target.host, input.target.port);
  } catch (error) {
    if (error instanceof DestinationRefused) throw ApplicationFailure.nonRetryable(error.message, BUSINESS_ERROR_TYPES.policyViolation);
    throw error;
  }
  const serverName = input.serverName ?? (isIP(input.target.host) ? '' : input.target.host);
  const chain = await servedChain(input.target, addresses, serverName);
  let leaf;
  try {
    leaf = readCertificateDer(chain[0]!);
  } catch (error) {
    throw ApplicationFailure.nonRetryable(`${input.target.endpoint}: the served certificate cannot be read: ${(error as Error).message}`, BUSINESS_ERROR_TYPES.invalidRequest);
  }
  const chainPem = chain.map((der) => `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`).join('');
  const at = deps.now();
  const own = await findTeamCertflowCertificate(deps.db, team.id, leaf.fingerprintSha256);
  const recorded = own
    ? { certificateId: own, created: false }
    : await recordExternalCertificate(deps.db, {
        teamId: team.id,
        source: 'discovered',
        origin: input.target.endpoint,
        certificate: leaf,
        policyFindings: inventoryPolicyFindings(leaf, team.policy),
        requestedBy: input.requestedBy,
        requestedByPrincipal: input.requestedByPrincipal,
        at,
      });
  await recordSighting(deps.db, { teamId: team.id, certificateId: recorded.certificateId, endpoint: input.target.endpoint, serverName, chainPem, scanId: input.scanId, at });
  return {
    endpoint: input.target.endpoint,
    outcome: own ? 'linked' : 'discovered',
    certificateId: recorded.certificateId,
    created: recorded.created,
    fingerprintSha256: leaf.fingerprintSha256,
    notAfter: leaf.notAfter.toISOString(),
  };
}

/** The DER certificates the endpoint serves, leaf first (as far as the handshake carried them). */
function servedChain(target: ScanEndpoint, addresses: string[], serverName: string): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const socket = connect({ host: target.host, port: target.port, rejectUnauthorized: false, lookup: pinnedLookup(addresses), ...(serverName ? { servername: serverName } : {}) });
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      outcome();
    };
    const timer = setTimeout(() => finish(() => reject(new Error(`${target.endpoint}: no TLS handshake within ${HANDSHAKE_TIMEOUT_MS} ms`))), HANDSHAKE_TIMEOUT_MS);
    socket.once('secureConnect', () => {
      const chain: Buffer[] = [];
      let current: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
      while (current?.raw && current.raw.length > 0 && !chain.some((der) => der.equals(current!.raw))) {
        chain.push(current.raw);
        current = current.issuerCertificate;
      }
      if (chain.length === 0) return finish(() => reject(new Error(`${target.endpoint}: the handshake completed without a certificate`)));
      finish(() => resolve(chain));
    });
    socket.once('error', (error) => finish(() => reject(new Error(`${target.endpoint}: ${error.message}`))));
    socket.once('close', () => finish(() => reject(new Error(`${target.endpoint}: the connection closed during the TLS handshake`))));
  });
}

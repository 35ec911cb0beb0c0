/**
 * Pre-signed OCSP responses (RFC 6960 responses in the RFC 5019 style): the worker, which holds the
 * issuer keys, signs one response per certificate and CertID hash algorithm (SHA-1 and SHA-256) and
 * stores it; the API only looks responses up, so no key ever reaches the API process.
 *
 * Responses are made when a version is issued (wrapped around issueCertificate in index.ts), when it
 * is revoked (revokeCertificate), and by the scheduled crlPublication workflow for every response that
 * is missing, disagrees with the database, or gets within OCSP_REFRESH_BEFORE_SECONDS of its nextUpdate.
 */
import { buildOcspResponse, encodeCertId, issuerHashes, type CertIdHash, type CertStatus } from '../ca/ocsp.js';
import { certificateFacts } from '../ca/certificate-facts.js';
import {
  listChildIssuers,
  listOcspResponses,
  listVersionsNeedingOcsp,
  listVersionSubjects,
  storeOcspResponses,
  type NewOcspResponse,
  type OcspSubject,
} from '../db/revocation.js';
import type { ActivityDeps } from './deps.js';
import type { LoadedIssuer } from './issuer-store.js';

/** thisUpdate → nextUpdate of a pre-signed response. */
export const OCSP_VALIDITY_SECONDS = 48 * 3600;
/** A response is re-signed once it is valid for less than this (the schedule runs hourly). */
export const OCSP_REFRESH_BEFORE_SECONDS = 24 * 3600;
/** Responses made per activity call when refreshing a whole issuer; the caller loops while `more`. */
export const OCSP_REFRESH_BATCH = 250;

const HASHES: CertIdHash[] = ['sha1', 'sha256'];

export interface RefreshOcspInput {
  issuerId: string;
  /** Sign for exactly these serials (of this issuer); without it, every response that needs it, up to `limit`. */
  serials?: string[];
  limit?: number;
}

export interface RefreshOcspResult {
  /** Certificates whose responses were signed (two responses each: SHA-1 and SHA-256 CertIDs). */
  signed: number;
  /** More responses of this issuer need refreshing: call again. */
  more: boolean;
}

export async function refreshOcspResponses(deps: ActivityDeps, input: RefreshOcspInput): Promise<RefreshOcspResult> {
  const issuer = await deps.issuers.load(input.issuerId);
  const now = new Date(Math.floor(deps.now().getTime() / 1000) * 1000);
  const limit = input.limit ?? OCSP_REFRESH_BATCH;
  let subjects: OcspSubject[];
  let more = false;
  if (input.serials) {
    subjects = [...(await listVersionSubjects(deps.db, input.issuerId, input.serials)), ...(await childSubjects(deps, input.issuerId, now, input.serials))];
  } else {
    const refreshBefore = new Date(now.getTime() + OCSP_REFRESH_BEFORE_SECONDS * 1000);
    subjects = await listVersionsNeedingOcsp(deps.db, input.issuerId, { now, refreshBefore, limit });
    more = subjects.length === limit;
    if (!more) subjects.push(...(await childSubjects(deps, input.issuerId, now, null, refreshBefore)));
  }
  await storeOcspResponses(deps.db, await signResponses(issuer, subjects, now));
  return { signed: subjects.length, more };
}

/**
 * The `good` responses of a version just signed, to store in the transaction that records it
 * (activities/issue-certificate.ts): the API answers for the version as soon as it exists.
 */
export async function goodResponsesOf(deps: ActivityDeps, issuerId: string, serial: string): Promise<NewOcspResponse[]> {
  const now = new Date(Math.floor(deps.now().getTime() / 1000) * 1000);
  return signResponses(await deps.issuers.load(issuerId), [{ serial, status: 'active', revokedAt: null, reason: null }], now);
}

/** The OCSP rows for these subjects: one response per hash algorithm, each with a single SingleResponse. */
async function signResponses(issuer: LoadedIssuer, subjects: OcspSubject[], now: Date): Promise<NewOcspResponse[]> {
  const hashes = issuerHashes(issuer.row.certificatePem);
  const nextUpdate = new Date(now.getTime() + OCSP_VALIDITY_SECONDS * 1000);
  const rows: NewOcspResponse[] = [];
  for (const subject of subjects) {
    const certStatus: CertStatus =
      subject.status === 'revoked' ? { status: 'revoked', revokedAt: subject.revokedAt ?? now, reason: subject.reason ?? 'unspecified' } : { status: 'good' };
    for (const hashAlgorithm of HASHES) {
      const responseDer = await buildOcspResponse(
        { signer: issuer.signer },
        { producedAt: now, responses: [{ certId: encodeCertId(hashAlgorithm, hashes, subject.serial), certStatus, thisUpdate: now, nextUpdate }] },
      );
      rows.push({ issuerId: issuer.row.id, serial: subject.serial, hashAlgorithm, certStatus: certStatus.status === 'revoked' ? 'revoked' : 'good', thisUpdate: now, nextUpdate, responseDer });
    }
  }
  return rows;
}

/**
 * Intermediates signed by this issuer, as OCSP subjects: those named in `serials`, or (with
 * `refreshBefore`) those whose responses are missing, stale or out of date. There are few of them.
 */
async function childSubjects(deps: ActivityDeps, issuerId: string, now: Date, serials: string[] | null, refreshBefore?: Date): Promise<OcspSubject[]> {
  const children = (await listChildIssuers(deps.db, issuerId))
    .filter((child) => child.notAfter.getTime() > now.getTime())
    .map((child) => ({
      serial: certificateFacts(child.certificatePem).serial,
      status: child.status === 'revoked' ? ('revoked' as const) : ('active' as const),
      revokedAt: child.revokedAt,
      reason: child.revocationReason,
    }));
  if (serials) return children.filter((child) => serials.includes(child.serial));
  const existing = new Map(
    (await listOcspResponses(deps.db, issuerId, children.map((child) => child.serial))).filter((row) => row.hashAlgorithm === 'sha1').map((row) => [row.serial, row]),
  );
  return children.filter((child) => {
    const response = existing.get(child.serial);
    return !response || response.nextUpdate.getTime() <= refreshBefore!.getTime() || (child.status === 'revoked' && response.certStatus !== 'revoked');
  });
}

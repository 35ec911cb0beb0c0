/**
 * Turns a validated `POST /v1/certificates` body into the canonical request that is stored and
 * signed: names canonicalized, CSR verified and matched against the request, team policy applied.
 * Nothing here writes anything; every refusal is a ProblemError.
 */
import { canonicalizeDnsName, canonicalizeDnsNames, MAX_SANS, NameError } from '../core/names.js';
import { evaluatePolicy } from '../core/policy.js';
import type { KeyAlgorithm } from '../core/types.js';
import { CsrError, parseCsr } from '../ca/csr.js';
import type { TeamRow } from '../db/teams.js';
import { problems } from './problem.js';
import type { CreateCertificateBody } from './schemas.js';

export interface CanonicalCertificateRequest {
  commonName: string | null;
  dnsNames: string[];
  ipAddresses: string[];
  uris: string[];
  keyAlgorithm: KeyAlgorithm;
  csrPem: string | null;
}

export async function canonicalizeCertificateRequest(body: CreateCertificateBody, team: TeamRow): Promise<CanonicalCertificateRequest> {
  const csr = body.csr ? await parseCsrField(body.csr) : null;
  if (csr && body.keyAlgorithm && body.keyAlgorithm !== csr.keyAlgorithm) {
    throw problems.validation(`keyAlgorithm is ${body.keyAlgorithm} but the csr carries a ${csr.keyAlgorithm} key; omit keyAlgorithm or make them agree`, [
      { field: 'keyAlgorithm', message: `does not match the csr's ${csr.keyAlgorithm} key` },
    ]);
  }

  const requestedNames = namesField(body.dnsNames, 'dnsNames');
  const requestedCommonName = body.commonName ?? csr?.commonName ?? null;
  const commonName = requestedCommonName === null ? null : nameField(requestedCommonName, body.commonName !== undefined ? 'commonName' : 'csr');
  const csrNames = csr ? namesField(csr.dnsNames, 'csr') : [];
  if (csr && requestedNames.length > 0 && csrNames.length > 0 && !sameSet(requestedNames, csrNames)) {
    throw problems.validation(
      `the csr asks for ${csrNames.join(', ')} but the request names ${requestedNames.join(', ')}; they must be the same names`,
      [{ field: 'csr', message: 'its DNS names differ from dnsNames' }],
    );
  }
  const baseNames = requestedNames.length > 0 ? requestedNames : csrNames;
  const dnsNames = commonName && !baseNames.includes(commonName) ? [commonName, ...baseNames] : baseNames;
  const ipAddresses = [...new Set(body.ipAddresses.map(normalizeIp))];
  const uris = [...new Set(body.uris)];

  if (dnsNames.length + ipAddresses.length + uris.length === 0) {
    throw problems.validation('a certificate needs at least one name: give dnsNames, ipAddresses, uris or commonName', [
      { field: 'dnsNames', message: 'no subject alternative name was given' },
    ]);
  }
  if (dnsNames.length + ipAddresses.length + uris.length > MAX_SANS) {
    throw problems.validation(`a certificate may carry at most ${MAX_SANS} subject alternative names in all`);
  }

  const keyAlgorithm = csr?.keyAlgorithm ?? body.keyAlgorithm ?? 'ECDSA-P256';
  const violation = evaluatePolicy(
    { dnsNames, ipAddresses, uris, profile: body.profile, keyAlgorithm, validitySeconds: body.validity },
    team.policy,
  );
  if (violation) throw problems.policyViolation(violation.code, violation.message);

  return { commonName, dnsNames, ipAddresses, uris, keyAlgorithm, csrPem: body.csr ?? null };
}

async function parseCsrField(pem: string) {
  try {
    return await parseCsr(pem);
  } catch (error) {
    if (error instanceof CsrError) throw problems.validation(error.message, [{ field: 'csr', message: error.message }]);
    throw error;
  }
}

function nameField(name: string, field: string): string {
  try {
    return canonicalizeDnsName(name);
  } catch (error) {
    if (error instanceof NameError) throw problems.validation(error.message, [{ field, message: error.message }]);
    throw error;
  }
}

function namesField(names: readonly string[], field: string): string[] {
  names.forEach((name, index) => nameField(name, `${field}/${index}`));
  return canonicalizeDnsNames(names);
}

function normalizeIp(ip: string): string {
  return ip.includes(':') ? new URL(`http://[${ip}]/`).hostname.slice(1, -1) : ip;
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((name) => b.includes(name));
}

/**
 * Turns a validated `POST /v1/certificates` body into the canonical request that is stored and
 * signed: names canonicalized, CSR verified and matched against the request, team policy applied.
 * Nothing here writes anything; every refusal is a ProblemError.
 */
import { canonicalizeDnsName, canonicalizeDnsNames, MAX_SANS, NameError } from '../core/names.js';
import { evaluatePolicy } from '../core/policy.js';
import type { KeyAlgorithm } from '../core/types.js';
import { canonicalizeIp, IpError } from '../core/ip.js';
import { CsrError, readCsr, type VerifiedCsr } from '../ca/csr.js';
import { checkSubjectPublicKey, KeyCheckError, type KeyBlocklist } from '../ca/key-checks.js';
import { PROFILE_KEY_ALGORITHMS } from '../ca/profiles.js';
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

export async function canonicalizeCertificateRequest(body: CreateCertificateBody, team: TeamRow, blocklist: KeyBlocklist): Promise<CanonicalCertificateRequest> {
  const csr = body.csr ? await csrField(body.csr, body.profile, blocklist) : null;
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
  const ipAddresses = [...new Set(body.ipAddresses.map((ip, index) => ipField(ip, `ipAddresses/${index}`)))];
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
  if (!PROFILE_KEY_ALGORITHMS[body.profile].includes(keyAlgorithm)) {
    throw problems.validation(`the ${body.profile} profile does not accept ${keyAlgorithm} keys; use one of ${PROFILE_KEY_ALGORITHMS[body.profile].join(', ')}`, [
      { field: csr ? 'csr' : 'keyAlgorithm', message: `${keyAlgorithm} is not allowed for ${body.profile}` },
    ]);
  }
  const violation = evaluatePolicy(
    { dnsNames, ipAddresses, uris, profile: body.profile, keyAlgorithm, validitySeconds: body.validity },
    team.policy,
  );
  if (violation) throw problems.policyViolation(violation.code, violation.message);

  return { commonName, dnsNames, ipAddresses, uris, keyAlgorithm, csrPem: body.csr ?? null };
}

/** Parses and verifies the CSR, then applies the same key checks issuance will (weak keys fail here, not later). */
async function csrField(pem: string, profile: CreateCertificateBody['profile'], blocklist: KeyBlocklist): Promise<VerifiedCsr> {
  try {
    const csr = readCsr(pem);
    await checkSubjectPublicKey(csr.publicKeySpki, { profile, blocklist, importedByCaller: true });
    return csr;
  } catch (error) {
    if (error instanceof CsrError || error instanceof KeyCheckError) {
      throw problems.validation(error.message, [{ field: 'csr', message: error.message }]);
    }
    throw error;
  }
}

function ipField(ip: string, field: string): string {
  try {
    return canonicalizeIp(ip);
  } catch (error) {
    if (error instanceof IpError) throw problems.validation(error.message, [{ field, message: error.message }]);
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

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((name) => b.includes(name));
}

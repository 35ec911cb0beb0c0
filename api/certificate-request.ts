/**
 * Turns a validated `POST /v1/certificates` body into the canonical request that is stored and
 * later signed. The checks are the issuance pipeline's own (`checkRequest`: CSR, names, key, team
 * policy), so what the API accepts is what the worker will sign. Nothing here writes anything;
 * every refusal is a ProblemError.
 */
import type { KeyAlgorithm } from '../core/types.js';
import { checkRequest, IssuanceError, type CheckedRequest, type IssuanceErrorCode } from '../ca/issuance.js';
import type { KeyBlocklist } from '../ca/key-checks.js';
import type { TeamRow } from '../db/teams.js';
import { policyProblem } from './policy-problem.js';
import { problems, type ProblemError } from './problem.js';
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
  const key = body.csr ? { csrPem: body.csr } : { keyToGenerate: body.keyAlgorithm ?? 'ECDSA-P256' };
  let checked: CheckedRequest;
  try {
    checked = await checkRequest(
      {
        key,
        ...(body.commonName !== undefined ? { commonName: body.commonName } : {}),
        dnsNames: body.dnsNames,
        ipAddresses: body.ipAddresses,
        uris: body.uris,
        profile: body.profile,
        validitySeconds: body.validity,
        teamPolicy: team.policy,
      },
      blocklist,
    );
  } catch (error) {
    if (error instanceof IssuanceError) throw problemFor(error, body);
    throw error;
  }
  if (body.csr && body.keyAlgorithm && body.keyAlgorithm !== checked.keyAlgorithm) {
    throw problems.validation(`keyAlgorithm is ${body.keyAlgorithm} but the csr carries a ${checked.keyAlgorithm} key; omit keyAlgorithm or make them agree`, [
      { field: 'keyAlgorithm', message: `does not match the csr's ${checked.keyAlgorithm} key` },
    ]);
  }
  const { commonName, dnsNames, ipAddresses, uris, keyAlgorithm } = checked;
  return { commonName, dnsNames, ipAddresses, uris, keyAlgorithm, csrPem: body.csr ?? null };
}

/** The pipeline's refusal as a problem: a policy violation is 403, everything else names the field to fix. */
function problemFor(error: IssuanceError, body: CreateCertificateBody): ProblemError {
  const hasCsr = body.csr !== undefined;
  const violations = error.details.policyViolations;
  if (error.code === 'policy_violation' && violations?.length) return policyProblem(violations, body);
  const field = FIELD_OF[error.code] ?? (hasCsr ? 'csr' : 'keyAlgorithm');
  return problems.validation(error.message, [{ field, message: error.message }]);
}

const FIELD_OF: Partial<Record<IssuanceErrorCode, string>> = {
  csr_invalid: 'csr',
  names_mismatch: 'csr',
  name_invalid: 'dnsNames',
};

/** The certificate columns a checked request sets: a new certificate, or a client's renewal of one. */
export function certificateColumnsOf(request: CanonicalCertificateRequest, body: Pick<CreateCertificateBody, 'profile' | 'validity'>) {
  return {
    commonName: request.commonName,
    dnsNames: request.dnsNames,
    ipAddresses: request.ipAddresses,
    uris: request.uris,
    profile: body.profile,
    keyAlgorithm: request.keyAlgorithm,
    validitySeconds: body.validity,
    csrPem: request.csrPem,
  };
}

/**
 * Leaf issuance as one explicit pipeline (cf. smallstep's authority/tls.go):
 *
 *   parse + verify the CSR (if any) → canonicalize names (CSR names must equal requested ones)
 *   → check the subject key (key-checks.ts) → team policy (core/policy.ts) → fields (serial,
 *   validity from the injected clock) → lint (lint.ts) → sign (leaf-template.ts) → DER, PEM, SHA-256
 *
 * Exported API:
 *   issueFromRequest(deps: IssuanceDeps, request: IssuanceRequest): Promise<IssuedLeaf>
 *   prepareLeaf(deps, request): Promise<LeafFields>   every step but signing (a dry run)
 *   leafValidity(issuedAt, validitySeconds, issuerNotAfter): { notBefore, notAfter }
 *   IssuanceError { code: IssuanceErrorCode; message; details }  every refusal; the message is for people
 *
 * `deps.templates` is a LeafTemplates built once per issuer and kept (building it parses the issuer
 * certificate); clock, serial source and key blocklist are injected.
 */
import { hash } from 'node:crypto';
import { canonicalizeDnsName, canonicalizeDnsNames, MAX_SANS, NameError } from '../core/names.js';
import { canonicalizeIp, IpError } from '../core/ip.js';
import { policyViolations, type PolicyViolation, type TeamPolicy } from '../core/policy.js';
import type { KeyAlgorithm, Profile } from '../core/types.js';
import { CsrError, readCsr, type VerifiedCsr } from './csr.js';
import { checkSubjectPublicKey, KeyCheckError, type KeyBlocklist, type KeyCheckOptions, type KeyCheckReason } from './key-checks.js';
import type { LeafFields, LeafTemplates } from './leaf-template.js';
import { PROFILE_KEY_ALGORITHMS } from './profiles.js';
import { lintLeaf, type LintViolation } from './lint.js';
import { derToPem } from './pem.js';
import type { SerialSource } from './serial.js';

export interface IssuanceDeps {
  /** The issuing CA, prepared once (see leaf-template.ts). */
  templates: LeafTemplates;
  /** PEM of the chain above the leaf (the issuer up to, not including, the root); returned as-is. */
  chainPem?: string;
  now: () => Date;
  serial: SerialSource;
  keyBlocklist?: KeyBlocklist;
  /** Runs after every check, before signing: a CA records the serial it is about to sign here, so no signed serial goes unrecorded. */
  beforeSigning?: (fields: LeafFields) => Promise<void>;
}

export interface IssuanceRequest {
  /** The subject key: a PEM CSR (its signature is verified), or a bare SubjectPublicKeyInfo (DER). */
  key: { csrPem: string } | { publicKeySpki: Uint8Array };
  /** Subject CN. Omitted: the CSR's CN, if any. null: an empty subject. It is also added to the DNS names. */
  commonName?: string | null;
  /** Requested names. When a CSR also lists names, both lists must hold the same names. */
  dnsNames?: string[];
  ipAddresses?: string[];
  uris?: string[];
  profile: Profile;
  validitySeconds: number;
  teamPolicy: TeamPolicy;
}

export interface IssuedLeaf {
  der: Uint8Array;
  pem: string;
  /** Lowercase hex, as given by the serial source. */
  serial: string;
  notBefore: Date;
  notAfter: Date;
  fingerprintSha256: string;
  chainPem?: string;
  keyAlgorithm: KeyAlgorithm;
  commonName: string | null;
  dnsNames: string[];
  ipAddresses: string[];
  uris: string[];
}

export type IssuanceErrorCode = 'csr_invalid' | 'names_mismatch' | 'name_invalid' | 'key_rejected' | 'policy_violation' | 'lint_failed';

export class IssuanceError extends Error {
  constructor(
    readonly code: IssuanceErrorCode,
    message: string,
    readonly details: { policyViolation?: PolicyViolation; policyViolations?: PolicyViolation[]; keyCheckReason?: KeyCheckReason; lintViolations?: LintViolation[] } = {},
  ) {
    super(message);
    this.name = 'IssuanceError';
  }
}

export async function issueFromRequest(deps: IssuanceDeps, request: IssuanceRequest): Promise<IssuedLeaf> {
  const fields = await prepareLeaf(deps, request);
  if (deps.beforeSigning) await deps.beforeSigning(fields);
  const der = await deps.templates.build(fields);
  return {
    der,
    pem: derToPem(der, 'CERTIFICATE'),
    serial: fields.serial,
    notBefore: fields.notBefore,
    notAfter: fields.notAfter,
    fingerprintSha256: hash('sha256', der, 'hex'),
    chainPem: deps.chainPem,
    keyAlgorithm: fields.subjectKeyAlgorithm,
    commonName: fields.commonName,
    dnsNames: fields.dnsNames,
    ipAddresses: fields.ipAddresses,
    uris: fields.uris,
  };
}

/** A request checked by steps 1–4: canonical names and the subject key's algorithm. */
export interface CheckedRequest {
  commonName: string | null;
  dnsNames: string[];
  ipAddresses: string[];
  uris: string[];
  keyAlgorithm: KeyAlgorithm;
  /** Null when the key is still to be generated (server-side keys, at acceptance time). */
  subjectPublicKeySpki: Uint8Array | null;
}

/**
 * Steps 1–4 of the pipeline (CSR, names, subject key, team policy), without an issuer: the API runs
 * exactly this before it accepts a request, so what it accepts is what issuance will sign.
 * `{ keyToGenerate }` stands for a server-side key that does not exist yet.
 */
export async function checkRequest(
  request: Omit<IssuanceRequest, 'key'> & { key: IssuanceRequest['key'] | { keyToGenerate: KeyAlgorithm } },
  keyBlocklist?: KeyBlocklist,
): Promise<CheckedRequest> {
  const csr = 'csrPem' in request.key ? verifiedCsr(request.key.csrPem) : null;
  const { commonName, dnsNames, ipAddresses, uris } = canonicalNames(request, csr);
  const sanCount = dnsNames.length + ipAddresses.length + uris.length;
  if (sanCount === 0) throw new IssuanceError('name_invalid', 'a certificate needs at least one name: give dnsNames, ipAddresses, uris or commonName');
  if (sanCount > MAX_SANS) throw new IssuanceError('name_invalid', `a certificate may carry at most ${MAX_SANS} subject alternative names in all, got ${sanCount}`);

  let subjectPublicKeySpki: Uint8Array | null = null;
  let keyAlgorithm: KeyAlgorithm;
  if ('keyToGenerate' in request.key) {
    keyAlgorithm = request.key.keyToGenerate;
    const allowed = PROFILE_KEY_ALGORITHMS[request.profile];
    if (!allowed.includes(keyAlgorithm)) {
      throw new IssuanceError('key_rejected', `the ${request.profile} profile does not accept ${keyAlgorithm} keys; use one of ${allowed.join(', ')}`, {
        keyCheckReason: 'algorithm_not_allowed',
      });
    }
  } else {
    subjectPublicKeySpki = 'csrPem' in request.key ? csr!.publicKeySpki : request.key.publicKeySpki;
    // readCsr imported the CSR's key to verify its signature: the key checks take that KeyObject, so the key is imported once.
    const options: KeyCheckOptions = { profile: request.profile };
    if (csr) options.publicKey = csr.publicKeyObject;
    keyAlgorithm = await checkedKeyAlgorithm(subjectPublicKeySpki, options, keyBlocklist);
  }

  // Objects are spelled out rather than spread: in Node 20's V8, `{ ...a, b }` costs microseconds.
  const { profile, validitySeconds } = request;
  const violations = policyViolations({ dnsNames, ipAddresses, uris, profile, keyAlgorithm, validitySeconds }, request.teamPolicy);
  if (violations.length > 0) {
    const message = violations.length === 1 ? violations[0]!.message : `${violations.length} policy violations: ${violations.map((v) => v.message).join('; ')}`;
    throw new IssuanceError('policy_violation', message, { policyViolation: violations[0]!, policyViolations: violations });
  }
  return { commonName, dnsNames, ipAddresses, uris, keyAlgorithm, subjectPublicKeySpki };
}

/** Every step of `issueFromRequest` but signing: the fields that would be signed, or an IssuanceError. */
export async function prepareLeaf(deps: IssuanceDeps, request: IssuanceRequest): Promise<LeafFields> {
  const { commonName, dnsNames, ipAddresses, uris, keyAlgorithm, subjectPublicKeySpki } = await checkRequest(request, deps.keyBlocklist);
  const { profile, validitySeconds } = request;

  const { notBefore, notAfter } = leafValidity(deps.now(), validitySeconds, deps.templates.issuerNotAfter);
  const fields: LeafFields = {
    serial: deps.serial(),
    commonName,
    dnsNames,
    ipAddresses,
    uris,
    profile,
    subjectPublicKeySpki: subjectPublicKeySpki!,
    subjectKeyAlgorithm: keyAlgorithm,
    notBefore,
    notAfter,
  };
  const lintViolations = lintLeaf(fields, { notAfter: deps.templates.issuerNotAfter });
  if (lintViolations.length > 0) {
    throw new IssuanceError('lint_failed', `the certificate would be malformed: ${lintViolations.map((v) => v.message).join('; ')}`, { lintViolations });
  }
  return fields;
}

/** notBefore is moved back by this much (at most 10 % of the validity) to tolerate clock skew. */
export const MAX_BACKDATE_SECONDS = 60;

/**
 * notBefore is backdated by up to MAX_BACKDATE_SECONDS (10 % of short validities) for clock skew;
 * notAfter never passes the issuer's. Whole seconds, as the certificate encodes them.
 */
export function leafValidity(issuedAt: Date, validitySeconds: number, issuerNotAfter: Date): { notBefore: Date; notAfter: Date } {
  const issuedAtMs = wholeSeconds(issuedAt.getTime());
  const backdateSeconds = Math.min(MAX_BACKDATE_SECONDS, Math.floor(validitySeconds / 10));
  return {
    notBefore: new Date(issuedAtMs - backdateSeconds * 1000),
    notAfter: new Date(Math.min(issuedAtMs + validitySeconds * 1000, wholeSeconds(issuerNotAfter.getTime()))),
  };
}

const wholeSeconds = (ms: number): number => Math.floor(ms / 1000) * 1000;

function verifiedCsr(pem: string): VerifiedCsr {
  try {
    return readCsr(pem);
  } catch (error) {
    if (error instanceof CsrError) throw new IssuanceError('csr_invalid', error.message);
    throw error;
  }
}

interface CanonicalNames {
  commonName: string | null;
  dnsNames: string[];
  ipAddresses: string[];
  uris: string[];
}

function canonicalNames(request: Pick<IssuanceRequest, 'commonName' | 'dnsNames' | 'ipAddresses' | 'uris'>, csr: VerifiedCsr | null): CanonicalNames {
  const requested = canonicalSans(request, 'the request');
  const requestListsNames = requested.dnsNames.length + requested.ipAddresses.length + requested.uris.length > 0;
  const fromCsr = csr ? canonicalSans(csr, 'the csr') : null;
  const csrListsNames = fromCsr !== null && fromCsr.dnsNames.length + fromCsr.ipAddresses.length + fromCsr.uris.length > 0;
  if (fromCsr && requestListsNames && csrListsNames) {
    for (const kind of ['dnsNames', 'ipAddresses', 'uris'] as const) {
      if (!sameSet(requested[kind], fromCsr[kind])) {
        throw new IssuanceError(
          'names_mismatch',
          `the csr asks for ${kind} [${fromCsr[kind].join(', ')}] but the request names [${requested[kind].join(', ')}]; they must be the same names`,
        );
      }
    }
  }
  const sans = requestListsNames || !fromCsr ? requested : fromCsr;

  const rawCommonName = request.commonName !== undefined ? request.commonName : (csr?.commonName ?? null);
  const commonName = rawCommonName === null ? null : canonicalName(rawCommonName, request.commonName !== undefined ? 'the request' : 'the csr');
  if (commonName !== null && request.commonName === undefined && requestListsNames && !sans.dnsNames.includes(commonName)) {
    throw new IssuanceError(
      'names_mismatch',
      `the csr's subject CN "${commonName}" is not among the requested DNS names; add it to dnsNames or set commonName to null`,
    );
  }
  const dnsNames = commonName !== null && !sans.dnsNames.includes(commonName) ? [commonName, ...sans.dnsNames] : sans.dnsNames;
  return { commonName, dnsNames, ipAddresses: sans.ipAddresses, uris: sans.uris };
}

function canonicalSans(names: { dnsNames?: readonly string[]; ipAddresses?: readonly string[]; uris?: readonly string[] }, source: string) {
  try {
    return {
      dnsNames: canonicalizeDnsNames(names.dnsNames ?? []),
      ipAddresses: [...new Set((names.ipAddresses ?? []).map(canonicalizeIp))],
      uris: [...new Set(names.uris ?? [])],
    };
  } catch (error) {
    if (error instanceof NameError || error instanceof IpError) throw new IssuanceError('name_invalid', `${source}: ${error.message}`);
    throw error;
  }
}

function canonicalName(name: string, source: string): string {
  try {
    return canonicalizeDnsName(name);
  } catch (error) {
    if (error instanceof NameError) {
      const hint = source === 'the csr' ? '; set commonName to null to leave the csr\'s CN out' : '';
      throw new IssuanceError('name_invalid', `${source}'s commonName: ${error.message}${hint}`);
    }
    throw error;
  }
}

async function checkedKeyAlgorithm(spki: Uint8Array, options: KeyCheckOptions, blocklist: KeyBlocklist | undefined): Promise<KeyAlgorithm> {
  try {
    if (blocklist) options.blocklist = blocklist;
    return (await checkSubjectPublicKey(spki, options)).keyAlgorithm;
  } catch (error) {
    if (error instanceof KeyCheckError) throw new IssuanceError('key_rejected', error.message, { keyCheckReason: error.reason });
    throw error;
  }
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value) => b.includes(value));
}

/**
 * A cheap pre-sign lint of what is about to be signed, against its profile and issuer: the last
 * line of defence after canonicalization and policy, so a bug upstream cannot produce a malformed
 * or over-broad certificate. Pure; returns every violation found (empty = may be signed).
 */
import { canonicalizeIp, IpError } from '../core/ip.js';
import { MAX_SANS } from '../core/names.js';
import type { LeafFields } from './leaf-template.js';
import { PROFILE_KEY_ALGORITHMS } from './profiles.js';

export type LintCode =
  | 'validity_empty'
  | 'validity_beyond_issuer'
  | 'serial_invalid'
  | 'serial_too_short'
  | 'serial_too_long'
  | 'no_subject_alt_name'
  | 'too_many_subject_alt_names'
  | 'duplicate_subject_alt_name'
  | 'common_name_not_in_dns_names'
  | 'common_name_too_long'
  | 'dns_name_not_ascii'
  | 'ip_address_invalid'
  | 'uri_invalid'
  | 'uri_on_server_profile'
  | 'key_algorithm_not_allowed';

export interface LintViolation {
  code: LintCode;
  message: string;
}

export interface LintIssuer {
  notAfter: Date;
}

/** ub-common-name (RFC 5280 Appendix A). */
export const MAX_COMMON_NAME_LENGTH = 64;
/** RFC 5280 §4.1.2.2: at most 20 octets; CA/Browser Forum BRs §7.1: at least 64 bits of CSPRNG output. */
export const MAX_SERIAL_OCTETS = 20;
export const MIN_SERIAL_BITS = 64;

type LintCheck = (fields: LeafFields, issuer: LintIssuer) => LintViolation | null;

const validityNotEmpty: LintCheck = ({ notBefore, notAfter }) =>
  notBefore.getTime() < notAfter.getTime()
    ? null
    : { code: 'validity_empty', message: `notBefore (${notBefore.toISOString()}) is not before notAfter (${notAfter.toISOString()})` };

const validityWithinIssuer: LintCheck = ({ notAfter }, issuer) =>
  notAfter.getTime() <= issuer.notAfter.getTime()
    ? null
    : {
        code: 'validity_beyond_issuer',
        message: `notAfter (${notAfter.toISOString()}) is after the issuer's notAfter (${issuer.notAfter.toISOString()})`,
      };

const serialWellFormed: LintCheck = ({ serial }) => {
  if (!/^[0-9a-fA-F]+$/.test(serial)) return { code: 'serial_invalid', message: `serial "${serial}" is not hexadecimal` };
  const significant = serial.replace(/^0+/, '');
  if (significant.length === 0) return { code: 'serial_invalid', message: 'serial is zero; it must be a positive integer' };
  const bits = (significant.length - 1) * 4 + Number.parseInt(significant[0]!, 16).toString(2).length;
  // DER adds a 0x00 octet when the top bit of the first octet is set, to keep the INTEGER positive.
  const encodedOctets = Math.floor(bits / 8) + 1;
  if (encodedOctets > MAX_SERIAL_OCTETS) {
    return { code: 'serial_too_long', message: `serial encodes to ${encodedOctets} octets; at most ${MAX_SERIAL_OCTETS} are allowed` };
  }
  if (bits < MIN_SERIAL_BITS) return { code: 'serial_too_short', message: `serial has ${bits} bits; at least ${MIN_SERIAL_BITS} are required` };
  return null;
};

const hasSubjectAltName: LintCheck = ({ dnsNames, ipAddresses, uris }) =>
  dnsNames.length + ipAddresses.length + uris.length > 0
    ? null
    : { code: 'no_subject_alt_name', message: 'the certificate has no subject alternative name; give at least one DNS name, IP address or URI' };

const subjectAltNameCount: LintCheck = ({ dnsNames, ipAddresses, uris }) => {
  const count = dnsNames.length + ipAddresses.length + uris.length;
  return count <= MAX_SANS
    ? null
    : { code: 'too_many_subject_alt_names', message: `the certificate has ${count} subject alternative names; at most ${MAX_SANS} are allowed` };
};

const noDuplicateSubjectAltNames: LintCheck = ({ dnsNames, ipAddresses, uris }) => {
  const duplicate =
    firstDuplicate(dnsNames.map((name) => name.toLowerCase())) ?? firstDuplicate(ipAddresses.map(canonicalOrSelf)) ?? firstDuplicate(uris);
  return duplicate === null ? null : { code: 'duplicate_subject_alt_name', message: `"${duplicate}" appears more than once among the subject alternative names` };
};

const commonNameInDnsNames: LintCheck = ({ commonName, dnsNames }) =>
  commonName === null || dnsNames.some((name) => name.toLowerCase() === commonName.toLowerCase())
    ? null
    : { code: 'common_name_not_in_dns_names', message: `commonName "${commonName}" must also be one of the DNS names (${dnsNames.join(', ') || 'none'})` };

const commonNameLength: LintCheck = ({ commonName }) =>
  commonName === null || commonName.length <= MAX_COMMON_NAME_LENGTH
    ? null
    : {
        code: 'common_name_too_long',
        message: `commonName is ${commonName.length} characters long; X.509 allows at most ${MAX_COMMON_NAME_LENGTH} — leave commonName out, the DNS names suffice`,
      };

const dnsNamesAscii: LintCheck = ({ dnsNames }) => {
  const bad = dnsNames.find((name) => !/^[\x21-\x7e]+$/.test(name));
  return bad === undefined ? null : { code: 'dns_name_not_ascii', message: `DNS name "${bad}" is not printable ASCII (write IDNs as A-labels)` };
};

const ipAddressesCanonical: LintCheck = ({ ipAddresses }) => {
  for (const address of ipAddresses) {
    try {
      if (canonicalizeIp(address) !== address) {
        return { code: 'ip_address_invalid', message: `IP address "${address}" is not in canonical form (${canonicalizeIp(address)})` };
      }
    } catch (error) {
      if (error instanceof IpError) return { code: 'ip_address_invalid', message: error.message };
      throw error;
    }
  }
  return null;
};

/** An absolute URI in printable ASCII: what an IA5String uniformResourceIdentifier can carry (RFC 5280 §4.2.1.6). */
const ABSOLUTE_URI = /^[a-zA-Z][a-zA-Z0-9+.-]*:[\x21-\x7e]+$/;
const urisWellFormed: LintCheck = ({ uris }) => {
  const bad = uris.find((uri) => !ABSOLUTE_URI.test(uri));
  return bad === undefined ? null : { code: 'uri_invalid', message: `URI "${bad}" is not an absolute URI in printable ASCII (e.g. spiffe://example.com/ns/app)` };
};

const urisOnlyOnClientProfiles: LintCheck = ({ uris, profile }) =>
  uris.length === 0 || profile !== 'tls-server'
    ? null
    : { code: 'uri_on_server_profile', message: 'URI subject alternative names are only allowed on the tls-client and mtls profiles' };

const keyAlgorithmAllowed: LintCheck = ({ profile, subjectKeyAlgorithm }) =>
  PROFILE_KEY_ALGORITHMS[profile].includes(subjectKeyAlgorithm)
    ? null
    : {
        code: 'key_algorithm_not_allowed',
        message: `profile "${profile}" does not accept ${subjectKeyAlgorithm} keys; use one of ${PROFILE_KEY_ALGORITHMS[profile].join(', ')}`,
      };

export const LINT_CHECKS: readonly LintCheck[] = [
  validityNotEmpty,
  validityWithinIssuer,
  serialWellFormed,
  hasSubjectAltName,
  subjectAltNameCount,
  noDuplicateSubjectAltNames,
  commonNameInDnsNames,
  commonNameLength,
  dnsNamesAscii,
  ipAddressesCanonical,
  urisWellFormed,
  urisOnlyOnClientProfiles,
  keyAlgorithmAllowed,
];

export function lintLeaf(fields: LeafFields, issuer: LintIssuer): LintViolation[] {
  const violations: LintViolation[] = [];
  for (const check of LINT_CHECKS) {
    const violation = check(fields, issuer);
    if (violation) violations.push(violation);
  }
  return violations;
}

function firstDuplicate(values: readonly string[]): string | null {
  const seen = new Set<string>();
  for (const value of values) {
    if (seen.has(value)) return value;
    seen.add(value);
  }
  return null;
}

function canonicalOrSelf(address: string): string {
  try {
    return canonicalizeIp(address);
  } catch {
    return address;
  }
}

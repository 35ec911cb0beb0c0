/**
 * Team policy: an ordered chain of pure checks (cf. cert-manager's policies.go). Every check
 * reports every violation it finds (one per offending name), so a refusal lists all that is wrong;
 * `evaluatePolicy` keeps the first for callers that need one. Gathering the inputs (team row,
 * canonical names) happens before; deciding is here, for the API, the worker's pre-signing check
 * and ACME alike.
 */
import type { ChallengeType } from './acme-order.js';
import type { ApprovalRules } from './approval.js';
import type { DestinationHostPolicy } from './destination-hosts.js';
import type { KeyAlgorithm, Profile } from './types.js';
import { cidrContains, parseCidr, type Cidr } from './ip.js';
import { isWildcard, isWithinZone } from './names.js';
import { isUnderPathPrefix, parseSanUri, UriError } from './uri.js';

/** One SPIFFE trust domain a team may name workloads in, and the paths under it (segment-wise prefixes; "/" is every path). */
export interface SpiffeAllowance {
  trustDomain: string;
  pathPrefixes: string[];
}

export interface AllowedUris {
  spiffe: SpiffeAllowance[];
  /** DNS zones for the host of `https://` URI SANs, matched like allowedDomains. */
  httpsHosts: string[];
}

/** Fair use, enforced by the API on requests (never on timer renewals or incident reissues). */
export interface TeamQuotas {
  /** Certificates of the team that are not revoked, rejected or expired unapproved. */
  maxActiveCertificates?: number;
  /** Renewals asked for through the API (POST /v1/certificates/:id/renew) in any sliding hour. */
  maxRenewalsPerHour?: number;
}

export interface TeamPolicy {
  /** DNS zones the team may request names in; a name must equal a zone or lie under it. */
  allowedDomains: string[];
  allowWildcards: boolean;
  /** Master switch for iPAddress SANs; false: none at all. */
  allowIpSans: boolean;
  /**
   * With allowIpSans, the CIDRs (IPv4 and IPv6) every requested address must lie in. Absent (policies
   * stored before it existed): any address, as allowIpSans alone always meant. Empty: none.
   */
  allowedIpRanges?: string[];
  /** URI SANs the team may request. Absent (policies stored before it existed): none. */
  allowedUris?: AllowedUris;
  /** Longest validity the team may request, in seconds. */
  maxValiditySeconds: number;
  /** Shortest validity the team may request, in seconds (the platform's floor applies as well). */
  minValiditySeconds?: number;
  /** Validity of a request that gives none, in seconds (within min and max); absent: see defaultValiditySeconds. */
  defaultValiditySeconds?: number;
  keyAlgorithms: KeyAlgorithm[];
  profiles: Profile[];
  /** Which requests need a human; absent in policies stored before approvals existed (none needed). */
  approval?: ApprovalRules;
  quotas?: TeamQuotas;
  /** Hosts and ports webhooks and verify endpoints may reach (core/destination-hosts.ts); absent: none. */
  destinationHosts?: DestinationHostPolicy;
  /** How the team's ACME accounts prove control of names; absent: every challenge type, validated for real. */
  acme?: AcmePolicy;
}

export interface AcmePolicy {
  /**
   * Authorizations of the team's EAB-bound accounts are valid from the start for names the policy
   * allows: the account key and its binding are the proof (an internal CA's choice).
   */
  preauthorized: boolean;
  challengeTypes: ChallengeType[];
}

export interface PolicyRequest {
  dnsNames: string[];
  ipAddresses: string[];
  uris: string[];
  profile: Profile;
  keyAlgorithm: KeyAlgorithm;
  validitySeconds: number;
}

export type PolicyViolationCode =
  | 'profile_not_allowed'
  | 'key_algorithm_not_allowed'
  | 'validity_too_long'
  | 'validity_too_short'
  | 'wildcard_not_allowed'
  | 'name_outside_allowed_domains'
  | 'ip_sans_not_allowed'
  | 'ip_outside_allowed_ranges'
  | 'uri_sans_not_allowed'
  | 'uri_malformed'
  | 'uri_scheme_not_allowed'
  | 'uri_outside_allowed_spiffe'
  | 'uri_outside_allowed_https_hosts';

export interface PolicyViolation {
  code: PolicyViolationCode;
  message: string;
  /** The request field the violation is about, when it is about a name. */
  field?: 'dnsNames' | 'ipAddresses' | 'uris';
  /** The offending name, when the violation is about one. */
  name?: string;
}

type PolicyCheck = (request: PolicyRequest, policy: TeamPolicy) => PolicyViolation[];

const one = (violation: PolicyViolation | null): PolicyViolation[] => (violation ? [violation] : []);

const profileAllowed: PolicyCheck = (request, policy) =>
  one(
    policy.profiles.includes(request.profile)
      ? null
      : { code: 'profile_not_allowed', message: `profile "${request.profile}" is not allowed for this team; allowed: ${policy.profiles.join(', ')}` },
  );

const keyAlgorithmAllowed: PolicyCheck = (request, policy) =>
  one(
    policy.keyAlgorithms.includes(request.keyAlgorithm)
      ? null
      : {
          code: 'key_algorithm_not_allowed',
          message: `key algorithm "${request.keyAlgorithm}" is not allowed for this team; allowed: ${policy.keyAlgorithms.join(', ')}`,
        },
  );

const validityWithinMax: PolicyCheck = (request, policy) =>
  one(
    request.validitySeconds <= policy.maxValiditySeconds
      ? null
      : {
          code: 'validity_too_long',
          message: `requested validity of ${request.validitySeconds} s exceeds the team's maximum of ${policy.maxValiditySeconds} s`,
        },
  );

const validityAboveMin: PolicyCheck = (request, policy) =>
  one(
    policy.minValiditySeconds === undefined || request.validitySeconds >= policy.minValiditySeconds
      ? null
      : {
          code: 'validity_too_short',
          message: `requested validity of ${request.validitySeconds} s is below the team's minimum of ${policy.minValiditySeconds} s`,
        },
  );

const wildcardsAllowed: PolicyCheck = (request, policy) =>
  policy.allowWildcards
    ? []
    : request.dnsNames
        .filter(isWildcard)
        .map((name) => ({ code: 'wildcard_not_allowed', message: `wildcard name "${name}" is not allowed for this team`, field: 'dnsNames', name }));

const namesWithinDomains: PolicyCheck = (request, policy) =>
  request.dnsNames
    .filter((name) => !policy.allowedDomains.some((zone) => isWithinZone(name, zone)))
    .map((name) => ({
      code: 'name_outside_allowed_domains',
      message: `"${name}" is outside the team's allowed domains (${policy.allowedDomains.join(', ') || 'none configured'})`,
      field: 'dnsNames',
      name,
    }));

const ipSansAllowed: PolicyCheck = (request, policy) =>
  policy.allowIpSans
    ? []
    : request.ipAddresses.map((name) => ({ code: 'ip_sans_not_allowed', message: `IP address SANs are not allowed for this team ("${name}")`, field: 'ipAddresses', name }));

/** Stored ranges were validated when the policy was written; one that no longer parses allows nothing. */
function parsedRanges(ranges: readonly string[]): Cidr[] {
  return ranges.flatMap((range) => {
    try {
      return [parseCidr(range)];
    } catch {
      return [];
    }
  });
}

function ipWithin(ranges: readonly Cidr[], address: string): boolean {
  try {
    return ranges.some((range) => cidrContains(range, address));
  } catch {
    return false;
  }
}

const ipsWithinRanges: PolicyCheck = (request, policy) => {
  if (!policy.allowIpSans || policy.allowedIpRanges === undefined) return [];
  const ranges = parsedRanges(policy.allowedIpRanges);
  return request.ipAddresses
    .filter((address) => !ipWithin(ranges, address))
    .map((name) => ({
      code: 'ip_outside_allowed_ranges',
      message: `"${name}" is outside the team's allowed IP ranges (${policy.allowedIpRanges!.join(', ') || 'none configured'})`,
      field: 'ipAddresses',
      name,
    }));
};

const uriSansOnClientProfiles: PolicyCheck = (request) =>
  one(
    request.uris.length > 0 && request.profile === 'tls-server'
      ? { code: 'uri_sans_not_allowed', message: 'URI SANs are only allowed on the tls-client and mtls profiles', field: 'uris' }
      : null,
  );

function uriViolation(uri: string, allowed: AllowedUris): PolicyViolation | null {
  const violation = (code: PolicyViolationCode, message: string): PolicyViolation => ({ code, message, field: 'uris', name: uri });
  let parsed;
  try {
    parsed = parseSanUri(uri);
  } catch (error) {
    if (error instanceof UriError) return violation('uri_malformed', error.message);
    throw error;
  }
  if (parsed.kind === 'other') {
    return violation('uri_scheme_not_allowed', `"${uri}": the ${parsed.scheme}: scheme is not allowed; URI SANs are spiffe:// IDs or https:// URIs`);
  }
  if (parsed.kind === 'spiffe') {
    const inDomain = allowed.spiffe.filter((entry) => entry.trustDomain === parsed.trustDomain);
    if (inDomain.some((entry) => entry.pathPrefixes.some((prefix) => isUnderPathPrefix(parsed.path, prefix)))) return null;
    const allowedText = allowed.spiffe.flatMap((entry) => entry.pathPrefixes.map((prefix) => `spiffe://${entry.trustDomain}${prefix === '/' ? '/…' : `${prefix}/…`}`));
    return violation(
      'uri_outside_allowed_spiffe',
      inDomain.length === 0
        ? `"${uri}": trust domain "${parsed.trustDomain}" is not allowed for this team (allowed: ${allowedText.join(', ') || 'none configured'})`
        : `"${uri}": path "${parsed.path}" is outside the team's allowed prefixes in trust domain "${parsed.trustDomain}" (allowed: ${allowedText.join(', ')})`,
    );
  }
  return allowed.httpsHosts.some((zone) => isWithinZone(parsed.host, zone))
    ? null
    : violation('uri_outside_allowed_https_hosts', `"${uri}": host "${parsed.host}" is outside the team's allowed https hosts (${allowed.httpsHosts.join(', ') || 'none configured'})`);
}

/** Absent allowedUris (policies stored before it existed) allows no URI at all. */
const urisAllowed: PolicyCheck = (request, policy) => {
  const allowed = policy.allowedUris ?? { spiffe: [], httpsHosts: [] };
  return request.uris.map((uri) => uriViolation(uri, allowed)).filter((violation): violation is PolicyViolation => violation !== null);
};

export const POLICY_CHAIN: readonly PolicyCheck[] = [
  profileAllowed,
  keyAlgorithmAllowed,
  validityWithinMax,
  validityAboveMin,
  wildcardsAllowed,
  namesWithinDomains,
  ipSansAllowed,
  ipsWithinRanges,
  uriSansOnClientProfiles,
  urisAllowed,
];

/** Every violation, in chain order; empty when the policy allows the request. */
export function policyViolations(request: PolicyRequest, policy: TeamPolicy): PolicyViolation[] {
  return POLICY_CHAIN.flatMap((check) => check(request, policy));
}

/** The first violation in chain order, or null. */
export function evaluatePolicy(request: PolicyRequest, policy: TeamPolicy): PolicyViolation | null {
  return policyViolations(request, policy)[0] ?? null;
}

/** The platform's validity for a request that gives none when its team's policy has no defaultValidity. */
export const PLATFORM_DEFAULT_VALIDITY_SECONDS = 90 * 86_400;

/**
 * The validity of a request that omits it: the team's defaultValidity, else the platform default
 * shortened to the team's maxValidity (and raised to its minValidity), so omitting it never breaks the policy.
 */
export function defaultValiditySeconds(policy: Pick<TeamPolicy, 'defaultValiditySeconds' | 'maxValiditySeconds' | 'minValiditySeconds'>): number {
  if (policy.defaultValiditySeconds !== undefined) return policy.defaultValiditySeconds;
  return Math.max(policy.minValiditySeconds ?? 0, Math.min(PLATFORM_DEFAULT_VALIDITY_SECONDS, policy.maxValiditySeconds));
}

/**
 * Team policy: an ordered chain of pure checks, first violation wins (cf. cert-manager's
 * policies.go). Gathering the inputs (team row, canonical names) happens before; deciding is here.
 */
import type { ApprovalRules } from './approval.js';
import type { DestinationHostPolicy } from './destination-hosts.js';
import type { KeyAlgorithm, Profile } from './types.js';
import { isWildcard, isWithinZone } from './names.js';

export interface TeamPolicy {
  /** DNS zones the team may request names in; a name must equal a zone or lie under it. */
  allowedDomains: string[];
  allowWildcards: boolean;
  allowIpSans: boolean;
  /** Longest validity the team may request, in seconds. */
  maxValiditySeconds: number;
  keyAlgorithms: KeyAlgorithm[];
  profiles: Profile[];
  /** Which requests need a human; absent in policies stored before approvals existed (none needed). */
  approval?: ApprovalRules;
  /** Hosts and ports webhooks and verify endpoints may reach (core/destination-hosts.ts); absent: none. */
  destinationHosts?: DestinationHostPolicy;
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
  | 'wildcard_not_allowed'
  | 'name_outside_allowed_domains'
  | 'ip_sans_not_allowed'
  | 'uri_sans_not_allowed';

export interface PolicyViolation {
  code: PolicyViolationCode;
  message: string;
}

type PolicyCheck = (request: PolicyRequest, policy: TeamPolicy) => PolicyViolation | null;

const profileAllowed: PolicyCheck = (request, policy) =>
  policy.profiles.includes(request.profile)
    ? null
    : { code: 'profile_not_allowed', message: `profile "${request.profile}" is not allowed for this team; allowed: ${policy.profiles.join(', ')}` };

const keyAlgorithmAllowed: PolicyCheck = (request, policy) =>
  policy.keyAlgorithms.includes(request.keyAlgorithm)
    ? null
    : {
        code: 'key_algorithm_not_allowed',
        message: `key algorithm "${request.keyAlgorithm}" is not allowed for this team; allowed: ${policy.keyAlgorithms.join(', ')}`,
      };

const validityWithinMax: PolicyCheck = (request, policy) =>
  request.validitySeconds <= policy.maxValiditySeconds
    ? null
    : {
        code: 'validity_too_long',
        message: `requested validity of ${request.validitySeconds} s exceeds the team's maximum of ${policy.maxValiditySeconds} s`,
      };

const wildcardsAllowed: PolicyCheck = (request, policy) => {
  const wildcard = request.dnsNames.find(isWildcard);
  return wildcard && !policy.allowWildcards
    ? { code: 'wildcard_not_allowed', message: `wildcard name "${wildcard}" is not allowed for this team` }
    : null;
};

const namesWithinDomains: PolicyCheck = (request, policy) => {
  const outside = request.dnsNames.find((name) => !policy.allowedDomains.some((zone) => isWithinZone(name, zone)));
  return outside
    ? {
        code: 'name_outside_allowed_domains',
        message: `"${outside}" is outside the team's allowed domains (${policy.allowedDomains.join(', ') || 'none configured'})`,
      }
    : null;
};

const ipSansAllowed: PolicyCheck = (request, policy) =>
  request.ipAddresses.length > 0 && !policy.allowIpSans
    ? { code: 'ip_sans_not_allowed', message: 'IP address SANs are not allowed for this team' }
    : null;

const uriSansOnClientProfiles: PolicyCheck = (request) =>
  request.uris.length > 0 && request.profile === 'tls-server'
    ? { code: 'uri_sans_not_allowed', message: 'URI SANs are only allowed on the tls-client and mtls profiles' }
    : null;

export const POLICY_CHAIN: readonly PolicyCheck[] = [
  profileAllowed,
  keyAlgorithmAllowed,
  validityWithinMax,
  wildcardsAllowed,
  namesWithinDomains,
  ipSansAllowed,
  uriSansOnClientProfiles,
];

export function evaluatePolicy(request: PolicyRequest, policy: TeamPolicy): PolicyViolation | null {
  for (const check of POLICY_CHAIN) {
    const violation = check(request, policy);
    if (violation) return violation;
  }
  return null;
}

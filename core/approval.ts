/**
 * Which requests need a human: an ordered chain of pure rules over the canonical request, like the
 * policy chain, except that every matching rule is reported (an approver should see all reasons).
 * Gathering the inputs (e.g. which names the team has never had) happens in the API.
 */
import { isWildcard, isWithinZone } from './names.js';
import type { PolicyRequest } from './policy.js';

export interface ApprovalRules {
  /** Wildcard names need approval. */
  wildcards: boolean;
  /** Zones the team usually requests in; a DNS name outside all of them needs approval. Empty: no such rule. */
  usualZones: string[];
  /** A validity longer than this (seconds) needs approval; null: no such rule. */
  validityAboveSeconds: number | null;
  /** The first certificate of the team for a name (DNS, IP or URI) that no issued certificate of the team carried needs approval. */
  newNames: boolean;
  /** How long an approval may stay pending before it expires (default 72 h). */
  deadlineSeconds: number;
  /** When the still-pending request is escalated to the team and the security contact. */
  escalateAfterSeconds: number;
}

export const DEFAULT_APPROVAL_DEADLINE_SECONDS = 72 * 3600;

/** No rule matches anything: no request needs approval. */
export const NO_APPROVAL_RULES: ApprovalRules = {
  wildcards: false,
  usualZones: [],
  validityAboveSeconds: null,
  newNames: false,
  deadlineSeconds: DEFAULT_APPROVAL_DEADLINE_SECONDS,
  escalateAfterSeconds: (DEFAULT_APPROVAL_DEADLINE_SECONDS * 2) / 3,
};

export type ApprovalReasonCode = 'wildcard' | 'outside_usual_zones' | 'long_validity' | 'new_name';

export interface ApprovalReason {
  code: ApprovalReasonCode;
  message: string;
}

export interface ApprovalContext {
  /** Names (DNS, IP, URI) of the request that no issued certificate of the team carried (pending requests do not count). */
  newNames: string[];
}

type ApprovalRule = (request: PolicyRequest, rules: ApprovalRules, context: ApprovalContext) => ApprovalReason | null;

const wildcardRule: ApprovalRule = (request, rules) => {
  const wildcard = request.dnsNames.find(isWildcard);
  return rules.wildcards && wildcard ? { code: 'wildcard', message: `the wildcard name "${wildcard}" needs approval` } : null;
};

const usualZonesRule: ApprovalRule = (request, rules) => {
  if (rules.usualZones.length === 0) return null;
  const unusual = request.dnsNames.filter((name) => !rules.usualZones.some((zone) => isWithinZone(name, zone)));
  return unusual.length > 0
    ? { code: 'outside_usual_zones', message: `${unusual.map((name) => `"${name}"`).join(', ')} lie outside the team's usual zones (${rules.usualZones.join(', ')})` }
    : null;
};

const validityRule: ApprovalRule = (request, rules) =>
  rules.validityAboveSeconds !== null && request.validitySeconds > rules.validityAboveSeconds
    ? { code: 'long_validity', message: `a validity of ${request.validitySeconds} s is above the ${rules.validityAboveSeconds} s that needs no approval` }
    : null;

const newNameRule: ApprovalRule = (_request, rules, context) =>
  rules.newNames && context.newNames.length > 0
    ? { code: 'new_name', message: `first certificate of the team for ${context.newNames.map((name) => `"${name}"`).join(', ')}` }
    : null;

export const APPROVAL_RULES: readonly ApprovalRule[] = [wildcardRule, usualZonesRule, validityRule, newNameRule];

/** Every reason this request needs approval; empty when it needs none. */
export function approvalReasons(request: PolicyRequest, rules: ApprovalRules, context: ApprovalContext): ApprovalReason[] {
  return APPROVAL_RULES.map((rule) => rule(request, rules, context)).filter((reason): reason is ApprovalReason => reason !== null);
}

export interface ApproverIdentity {
  tokenId: string;
  /** The person or service behind the token; absent in decisions sent before principals existed. */
  principalId?: string;
  role: string;
  /** Null for a platform-wide (security) admin. */
  teamId: string | null;
}

/**
 * Why this identity may not decide on a request of `teamId` made by `requestedBy` (token id) acting
 * for `requestedByPrincipal`, or null if it may: approvers of the team, team admins and platform
 * (security) admins, never the requester — the same principal with any of its tokens, or the same token.
 */
export function approverProblem(approver: ApproverIdentity, teamId: string, requestedBy: string, requestedByPrincipal?: string | null): string | null {
  if (approver.tokenId === requestedBy) return 'the requester cannot approve or reject their own request; ask another approver of the team';
  if (requestedByPrincipal && approver.principalId === requestedByPrincipal) {
    return `the requester cannot approve or reject their own request, whatever token they use (principal ${requestedByPrincipal}); ask another approver of the team`;
  }
  const securityAdmin = approver.role === 'admin' && approver.teamId === null;
  if (securityAdmin) return null;
  if (approver.teamId !== teamId) return 'only approvers of the certificate\'s team or a security admin can decide on this request';
  if (approver.role !== 'approver' && approver.role !== 'admin') return `deciding on approvals needs the approver role; the token has role "${approver.role}"`;
  return null;
}

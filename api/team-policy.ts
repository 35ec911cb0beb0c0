/**
 * Team policy between its API shape (durations such as `maxValidity: "P30D"`, as in
 * `POST /v1/teams`) and its stored shape (core/policy.ts `TeamPolicy`, in seconds), and the merge
 * of `PATCH /v1/teams/:id`. Fields this module does not know pass through unchanged both ways.
 */
import { z } from 'zod';
import type { TeamPolicy } from '../core/policy.js';
import { checkedTeamPolicySchema } from './schemas.js';
import { parseWith } from './validation.js';

export type TeamPolicyInput = z.output<typeof checkedTeamPolicySchema>;

export function storedPolicy(input: TeamPolicyInput): TeamPolicy {
  const { maxValidity, minValidity, defaultValidity, ...rest } = input;
  return {
    ...rest,
    maxValiditySeconds: maxValidity,
    ...(minValidity !== undefined ? { minValiditySeconds: minValidity } : {}),
    ...(defaultValidity !== undefined ? { defaultValiditySeconds: defaultValidity } : {}),
  };
}

/** The stored policy in the API's input shape, so that a patch can be merged onto it and validated whole. */
export function policyInput(policy: TeamPolicy): Record<string, unknown> {
  const { maxValiditySeconds, minValiditySeconds, defaultValiditySeconds, approval, ...rest } = policy;
  const input: Record<string, unknown> = { ...rest, maxValidity: maxValiditySeconds };
  if (minValiditySeconds !== undefined) input['minValidity'] = minValiditySeconds;
  if (defaultValiditySeconds !== undefined) input['defaultValidity'] = defaultValiditySeconds;
  if (approval) {
    const { validityAboveSeconds, deadlineSeconds, escalateAfterSeconds, ...rules } = approval;
    input['approval'] = { ...rules, deadline: deadlineSeconds, escalateAfter: escalateAfterSeconds, ...(validityAboveSeconds !== null ? { validityAbove: validityAboveSeconds } : {}) };
  }
  return input;
}

/**
 * Each field of the patch replaces the stored one whole; `null` drops it (an optional field is then
 * absent, another takes its default). A patch that gives allowedIpRanges without allowIpSans derives
 * allowIpSans again, as at creation (ranges listed: true).
 */
export function mergedPolicy(stored: TeamPolicy, patch: Record<string, unknown>): TeamPolicy {
  const merged = policyInput(stored);
  if ('allowedIpRanges' in patch && !('allowIpSans' in patch)) delete merged['allowIpSans'];
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  return storedPolicy(parseWith(z.strictObject({ policy: checkedTeamPolicySchema }), { policy: merged }).policy);
}

/**
 * Which names of an imported or discovered certificate the owner team's policy would not allow. The
 * inventory records such a certificate anyway (it exists whether or not the policy likes it) and
 * flags it with these findings, so that the team sees it; adopting it goes through the policy again.
 */
import { policyViolations, type TeamPolicy } from './policy.js';
import type { Profile } from './types.js';

export interface PolicyFinding {
  name: string;
  reason: string;
}

/** Name findings only: validity, key algorithm and profile were another CA's choice, not the team's request. */
export function inventoryPolicyFindings(names: { dnsNames: string[]; ipAddresses: string[]; uris: string[]; profile: Profile }, policy: TeamPolicy): PolicyFinding[] {
  // Violations about the key, validity or profile carry no name and are left out.
  const violations = policyViolations({ ...names, keyAlgorithm: policy.keyAlgorithms[0] ?? 'ECDSA-P256', validitySeconds: policy.maxValiditySeconds }, policy);
  return violations.filter((violation) => violation.name !== undefined).map((violation) => ({ name: violation.name!, reason: violation.message }));
}

/**
 * When to renew a certificate: a pure function of its validity window (cf. cert-manager's
 * renewaltime.go). By default at 2/3 of the lifetime, moved earlier by a deterministic
 * per-certificate jitter of up to 5 % of the lifetime so that certificates issued together do not
 * all renew in the same second. `renewBeforeSeconds` overrides the 2/3 rule.
 */
export interface RenewalTimeInput {
  /** Start of the usable window: the time of issuance (notBefore minus its clock-skew backdating). */
  issuedAt: Date;
  notAfter: Date;
  certificateId: string;
  generation: number;
  renewBeforeSeconds?: number | null;
}

export const MAX_JITTER_FRACTION = 0.05;

export function renewalTime(input: RenewalTimeInput): Date {
  const start = input.issuedAt.getTime();
  const end = input.notAfter.getTime();
  const lifetime = end - start;
  if (lifetime <= 0) return new Date(start);

  const renewBefore = input.renewBeforeSeconds ? input.renewBeforeSeconds * 1000 : lifetime / 3;
  const boundedRenewBefore = Math.min(Math.max(renewBefore, 0), lifetime);
  const jitter = jitterFraction(`${input.certificateId}/${input.generation}`) * MAX_JITTER_FRACTION * lifetime;
  return new Date(Math.max(start, Math.floor(end - boundedRenewBefore - jitter)));
}

/** FNV-1a of the key mapped to [0, 1): stable across processes and replays, no randomness needed. */
export function jitterFraction(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash / 0x100000000;
}

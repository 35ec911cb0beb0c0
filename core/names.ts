/**
 * DNS name canonicalization for certificate requests. Pure and workflow-safe (no node: imports).
 * Names are returned lower-cased; anything a strict client would refuse is refused here with a
 * message that names the offending part.
 */
export const MAX_DNS_NAME_LENGTH = 253;
export const MAX_LABEL_LENGTH = 63;
export const MAX_SANS = 100;

const LDH_LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
const NUMERIC_TLD = /^(?:\d+|0x[0-9a-f]+)$/;

export class NameError extends Error {
  constructor(
    readonly name_: string,
    readonly reason: string,
  ) {
    super(`"${name_}" is not a valid DNS name: ${reason}`);
    this.name = 'NameError';
  }
}

export function canonicalizeDnsName(raw: string): string {
  if (raw.length === 0) throw new NameError(raw, 'it is empty');
  if (/[^\x21-\x7e]/.test(raw)) {
    throw new NameError(raw, 'it contains spaces, control or non-ASCII characters; write internationalized names as A-labels (xn--…)');
  }
  if (raw.endsWith('.')) throw new NameError(raw, 'remove the trailing dot');
  const name = raw.toLowerCase();
  if (name.length > MAX_DNS_NAME_LENGTH) {
    throw new NameError(raw, `it is ${name.length} characters long; the limit is ${MAX_DNS_NAME_LENGTH}`);
  }
  const labels = name.split('.');
  if (labels.length < 2) throw new NameError(raw, 'it needs at least two labels (e.g. "service.example.com")');
  labels.forEach((label, index) => {
    if (label === '*') {
      if (index !== 0) throw new NameError(raw, 'a wildcard may only be the whole leftmost label');
      if (labels.length < 3) throw new NameError(raw, 'a wildcard needs at least two labels under it');
      return;
    }
    if (label.length === 0) throw new NameError(raw, 'it has an empty label');
    if (label.length > MAX_LABEL_LENGTH) {
      throw new NameError(raw, `label "${label}" is ${label.length} characters long; the limit is ${MAX_LABEL_LENGTH}`);
    }
    if (!LDH_LABEL.test(label)) {
      throw new NameError(raw, `label "${label}" may contain only letters, digits and inner hyphens`);
    }
    if (label.length >= 4 && label[2] === '-' && label[3] === '-' && !label.startsWith('xn--')) {
      throw new NameError(raw, `label "${label}" has hyphens in positions 3 and 4, which only A-labels (xn--) may have`);
    }
  });
  if (NUMERIC_TLD.test(labels[labels.length - 1]!)) {
    throw new NameError(raw, 'it looks like an IP address; put IP addresses in ipAddresses');
  }
  return name;
}

export function isWildcard(name: string): boolean {
  return name.startsWith('*.');
}

/** Canonicalizes each name and removes duplicates, keeping the first occurrence's position. */
export function canonicalizeDnsNames(raw: readonly string[]): string[] {
  return [...new Set(raw.map(canonicalizeDnsName))];
}

/** True when `name` equals `zone` or lies under it; a wildcard counts as lying under its parent. */
export function isWithinZone(name: string, zone: string): boolean {
  const bare = isWildcard(name) ? name.slice(2) : name;
  return bare === zone || bare.endsWith(`.${zone}`);
}

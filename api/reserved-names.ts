/**
 * Names the platform serves itself on (the ACME listener's CERTFLOW_ACME_HOSTNAMES): only the
 * platform's own team may have a certificate for them. Any other team whose zones happen to cover
 * them would otherwise get a certificate every ACME client trusts for the CA's own endpoint.
 */
import { PLATFORM_TEAM_NAME } from './acme/platform-team.js';

/** The first requested name that is reserved (or a wildcard covering one), or null. */
export function reservedNameIn(request: { dnsNames: readonly string[]; ipAddresses: readonly string[] }, teamName: string, reserved: readonly string[]): string | null {
  if (teamName === PLATFORM_TEAM_NAME || reserved.length === 0) return null;
  const taken = new Set(reserved.map((name) => name.toLowerCase()));
  for (const name of [...request.dnsNames, ...request.ipAddresses]) {
    const lower = name.toLowerCase();
    if (taken.has(lower)) return name;
    if (lower.startsWith('*.') && reserved.some((reservedName) => reservedName.toLowerCase().split('.').slice(1).join('.') === lower.slice(2))) return name;
  }
  return null;
}

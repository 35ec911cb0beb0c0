/**
 * dns-01 (RFC 8555 §8.4): a TXT record at `_acme-challenge.<name>` (a wildcard's base name) must hold
 * base64url(SHA-256(keyAuthorization)). The question goes to the configured resolver (or the
 * system's), never to a host the client names, so no DestinationGuard is involved.
 */
import { Resolver } from 'node:dns/promises';
import { dns01RecordName } from '../core/acme-challenge-targets.js';
import { dns01TxtValue } from '../core/acme-key-authorization.js';
import { invalid, type ChallengeValidationResult } from '../core/acme-validation-outcome.js';
import { excerpt, unavailable, type AcmeValidationDeps } from './acme-validation-support.js';

export interface Dns01Input {
  /** A canonical DNS name, possibly a wildcard. */
  name: string;
  keyAuthorization: string;
}

/** Answers that say the record is not there; every other resolver error may pass. */
const ABSENT = new Set(['ENOTFOUND', 'ENODATA']);

export async function validateDns01(deps: Pick<AcmeValidationDeps, 'acmeValidation'>, input: Dns01Input): Promise<ChallengeValidationResult> {
  const { dnsResolver, timeoutMs } = deps.acmeValidation;
  const recordName = dns01RecordName(input.name);
  // Two tries, each half the time; the timer below bounds the whole lookup whatever c-ares does.
  const resolver = new Resolver({ timeout: Math.max(1, Math.floor(timeoutMs / 2)), tries: 2 });
  if (dnsResolver) resolver.setServers([dnsResolver]);
  const timer = setTimeout(() => resolver.cancel(), timeoutMs);
  let records: string[][];
  try {
    records = await resolver.resolveTxt(recordName);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    if (ABSENT.has(code)) return invalid('dns', `no TXT record at ${recordName} (${code === 'ENOTFOUND' ? 'NXDOMAIN' : 'no TXT records'})`);
    throw unavailable('dns', `TXT lookup of ${recordName} failed: ${code === 'ECANCELLED' ? `no answer within ${timeoutMs / 1000} s` : code}`);
  } finally {
    clearTimeout(timer);
  }
  // A TXT record's character-strings form one value (RFC 7208 §3.3 does the same).
  const values = records.map((strings) => strings.join(''));
  if (values.length === 0) return invalid('dns', `no TXT record at ${recordName}`);
  if (values.includes(dns01TxtValue(input.keyAuthorization))) return { status: 'valid' };
  const shown = values.slice(0, 3).map((value) => excerpt(value)).join(', ');
  return invalid('incorrectResponse', `no TXT record at ${recordName} holds the expected value; found ${shown}${values.length > 3 ? ` and ${values.length - 3} more` : ''}`);
}

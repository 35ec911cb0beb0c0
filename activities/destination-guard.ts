/**
 * The worker's half of the destination host policy (core/destination-hosts.ts): right before a
 * webhook POST or a TLS probe, the host is checked against the team's policy again, resolved ONCE,
 * and every address it resolves to is checked against the platform's deny list; the connection is
 * then made to those checked addresses only (`pinnedLookup`), so a DNS answer that changes between
 * the check and the connect (rebinding) cannot send it elsewhere.
 */
import { lookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import { appendAuditEvent } from '../db/audit.js';
import type { ActivityDeps } from './deps.js';
import {
  checkDestinationHost,
  checkPlatformRules,
  checkResolvedAddress,
  registeredClusterRules,
  classifyHost,
  type DestinationHostPolicy,
  type DestinationRefusalCode,
  type PlatformDestinationRules,
} from '../core/destination-hosts.js';

/** Every address of a host name (A and AAAA), as the system resolver answers. */
export type ResolveHost = (name: string) => Promise<string[]>;

export const systemResolver: ResolveHost = async (name) => (await lookup(name, { all: true, verbatim: true })).map((entry) => entry.address);

/** A refusal by policy: retrying cannot change it (the caller makes it non-retryable). */
export class DestinationRefused extends Error {
  override name = 'DestinationRefused';
  constructor(
    message: string,
    /** Whether the team's policy or the platform refused (ACME validation reports them differently). */
    readonly code: DestinationRefusalCode,
  ) {
    super(message);
  }
}

/** The host name did not resolve: retryable like any plain Error; `code` tells NXDOMAIN (`ENOTFOUND`) from a failing resolver (`EAI_AGAIN`). */
export class HostNotFound extends Error {
  override name = 'HostNotFound';
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

const SERVICE_ADDRESSES_TTL_MS = 5 * 60_000;

export class DestinationGuard {
  private serviceAddresses: { at: number; map: Promise<Map<string, string[]>> } | null = null;

  constructor(
    readonly rules: PlatformDestinationRules,
    private readonly resolveHost: ResolveHost = systemResolver,
  ) {}

  /**
   * The addresses `host:port` may be connected to, all checked; throws DestinationRefused when the
   * team's policy or the platform refuses the host or any address it resolves to, and a plain
   * (retryable) Error when the name does not resolve.
   */
  async admit(policy: DestinationHostPolicy | undefined, host: string, port: number): Promise<string[]> {
    const refusal = checkDestinationHost(host, port, policy, this.rules);
    if (refusal) throw new DestinationRefused(refusal.message, refusal.code);
    return this.resolveChecked(host, port, this.rules);
  }

  /**
   * A registered cluster's API server (a platform admin named it): no team policy, the platform's
   * rules without `extraDenied` (core/destination-hosts.ts registeredClusterRules), otherwise as admit.
   */
  async admitRegisteredCluster(host: string, port: number): Promise<string[]> {
    const rules = registeredClusterRules(this.rules);
    const refusal = checkPlatformRules(host, port, rules);
    if (refusal) throw new DestinationRefused(refusal.message, refusal.code);
    return this.resolveChecked(host, port, rules);
  }

  private async resolveChecked(host: string, port: number, rules: PlatformDestinationRules): Promise<string[]> {
    const target = classifyHost(host)!;
    let addresses: string[];
    if (target.kind === 'ip') {
      addresses = [target.address];
    } else {
      try {
        addresses = await this.resolveHost(target.name);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new HostNotFound(`${host}: host not found (${code ?? (error as Error).message})`, code);
      }
      if (addresses.length === 0) throw new HostNotFound(`${host}: host not found (no addresses)`, undefined);
    }
    const services = await this.namedServiceAddresses();
    for (const address of addresses) {
      const denied = checkResolvedAddress(address, port, rules, services);
      if (denied) throw new DestinationRefused(target.kind === 'ip' ? denied.message : `"${target.name}" resolves to ${denied.message}`, denied.code);
    }
    return addresses;
  }

  /** Where the platform's services named by host name (not IP literal) are: resolved at most every few minutes. */
  private namedServiceAddresses(): Promise<Map<string, string[]>> {
    if (this.serviceAddresses && Date.now() - this.serviceAddresses.at < SERVICE_ADDRESSES_TTL_MS) return this.serviceAddresses.map;
    const named = [...new Set(this.rules.services.map((service) => service.host).filter((host) => classifyHost(host)?.kind === 'name'))];
    const map = Promise.all(named.map(async (host) => [host, await this.resolveHost(host)] as const)).then((entries) => new Map(entries));
    // Fail closed: while a platform service's name does not resolve, its address is unknown, so no
    // destination can be told apart from it. Nothing is cached; the caller's step retries.
    this.serviceAddresses = { at: Date.now(), map };
    map.catch(() => {
      if (this.serviceAddresses?.map === map) this.serviceAddresses = null;
    });
    return map.catch((error: NodeJS.ErrnoException) => {
      throw new Error(`cannot tell destinations apart from the platform's own services: ${error.code ?? error.message} resolving one of ${named.join(', ')}; retrying`);
    });
  }
}

/** A `lookup` for net/tls/http that answers only with addresses already checked, never asking DNS again. */
export function pinnedLookup(addresses: string[]): LookupFunction {
  return (_hostname, options, callback) => {
    const family = typeof options === 'object' ? options.family : undefined;
    const entries = addresses
      .map((address) => ({ address, family: isIP(address) }))
      .filter((entry) => family === undefined || family === 0 || entry.family === family || (family as unknown) === `IPv${entry.family}`);
    if (entries.length === 0) {
      const error = Object.assign(new Error('no checked address of the requested family'), { code: 'ENOTFOUND' });
      return (callback as (error: Error) => void)(error);
    }
    if (typeof options === 'object' && options.all) return (callback as unknown as (error: null, addresses: typeof entries) => void)(null, entries);
    callback(null, entries[0]!.address, entries[0]!.family);
  };
}

/** A destination the worker refused to connect to or write to, in the audit log (once per request of the workflow). */
export async function recordDestinationRefusal(
  deps: Pick<ActivityDeps, 'db' | 'now'>,
  refusal: { certificateId: string; teamId: string; action: 'destination.connect_refused' | 'destination.write_refused'; reason: string; dedupeKey: string },
): Promise<void> {
  await appendAuditEvent(deps.db, {
    at: deps.now(),
    actor: 'workflow',
    action: refusal.action,
    teamId: refusal.teamId,
    certificateId: refusal.certificateId,
    details: { reason: refusal.reason },
    dedupeKey: refusal.dedupeKey,
  }).catch(() => undefined);
}

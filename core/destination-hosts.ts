/**
 * Which hosts and ports a team's webhooks and verification endpoints may reach (no SSRF). Two
 * layers, the platform's first: a fixed deny list (loopback, link-local and cloud metadata,
 * unspecified, multicast, reserved) plus the platform's own services and the operator's extra
 * ranges, which always win; then the team's `destinationHosts` (zones, CIDRs, ports). Absent
 * `destinationHosts` allows no host at all. Pure: the API checks what a request names, the worker
 * checks every address a name resolves to right before it connects (activities/destination-guard.ts).
 */
import { embeddedIpv4, parseAddressRange, rangeContains, unmapped, type AddressRange } from './address-ranges.js';
import { canonicalizeIp, ipToOctets } from './ip.js';
import { isWithinZone } from './names.js';

/** Team policy: where its webhooks and verify endpoints may connect. */
export interface DestinationHostPolicy {
  /** DNS zones: a host name must equal one or lie under it. */
  zones: string[];
  /** Ranges an IP-literal host must lie in (`10.1.0.0/16`, `2001:db8::/32`). */
  cidrs: string[];
  /** Allowed ports; empty allows every port (the platform's own services stay denied). */
  ports: number[];
}

/** One of the platform's own services: its port is never a destination on loopback or on its host. */
export interface PlatformService {
  name: string;
  /** Host name or IP literal it is reached at; loopback when the platform runs on one host. */
  host: string;
  port: number;
}

/** Platform configuration (cmd/config.ts). */
export interface PlatformDestinationRules {
  services: PlatformService[];
  /** Operator exceptions to the fixed deny list (development, tests), e.g. `127.0.0.0/8`; never the services. */
  allowedExceptions: string[];
  /** Extra ranges the operator denies (e.g. a cluster's API server); no exception lifts them. */
  extraDenied: string[];
}

export type DestinationRefusalCode =
  | 'host_invalid'
  | 'address_denied'
  | 'platform_service'
  | 'no_destination_policy'
  | 'host_not_allowed'
  | 'address_not_allowed'
  | 'port_not_allowed';

export interface DestinationRefusal {
  code: DestinationRefusalCode;
  message: string;
}

const FIXED_DENY_LIST: ReadonlyArray<{ range: string; kind: string }> = [
  { range: '0.0.0.0/8', kind: 'an unspecified ("this network") address' },
  { range: '127.0.0.0/8', kind: 'a loopback address' },
  { range: '169.254.0.0/16', kind: 'a link-local address (cloud metadata services live here)' },
  { range: '100.100.100.200/32', kind: 'a cloud metadata address' },
  { range: '224.0.0.0/4', kind: 'a multicast address' },
  { range: '240.0.0.0/4', kind: 'a reserved or broadcast address' },
  { range: '::/128', kind: 'the unspecified address' },
  { range: '::1/128', kind: 'a loopback address' },
  { range: 'fe80::/10', kind: 'a link-local address' },
  { range: 'fd00:ec2::254/128', kind: 'a cloud metadata address' },
  { range: 'ff00::/8', kind: 'a multicast address' },
];
const DENIED = FIXED_DENY_LIST.map(({ range, kind }) => ({ range: parseAddressRange(range), kind }));
const LOCAL = ['127.0.0.0/8', '::1/128', '0.0.0.0/8', '::/128'].map(parseAddressRange);

/** What the operator's `loopback` keyword stands for. */
export const LOOPBACK_RANGES: readonly string[] = ['127.0.0.0/8', '::1/128'];

/** A host as written in a request: an IP literal (brackets allowed) or a DNS name; null when it is neither. */
export type DestinationHost = { kind: 'ip'; address: string } | { kind: 'name'; name: string };

export function classifyHost(raw: string): DestinationHost | null {
  const bare = raw.replace(/^\[(.*)\]$/, '$1');
  try {
    return { kind: 'ip', address: canonicalizeIp(bare) };
  } catch {
    // not an IP literal: a name, if it reads as one
  }
  const name = bare.toLowerCase().replace(/\.$/, '');
  const labels = name.split('.');
  if (name.length === 0 || name.length > 253 || !labels.every((label) => /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/.test(label))) return null;
  // `127.1`, `0x7f.1`, `2130706433`: resolvers read these as IPv4 addresses, so they are neither.
  if (/^(?:\d+|0x[0-9a-f]*)$/.test(labels[labels.length - 1]!)) return null;
  return { kind: 'name', name };
}

/** RFC 6761 §6.3: `localhost` and names under it are loopback whatever DNS says. */
function isLoopbackName(name: string): boolean {
  return name === 'localhost' || name.endsWith('.localhost');
}

/**
 * Request time: may a destination naming `host` and `port` be stored? Platform rules first (they
 * win), then the team's policy. Names are checked against zones here and their addresses at connect
 * time (checkResolvedAddress).
 */
export function checkDestinationHost(host: string, port: number, policy: DestinationHostPolicy | undefined, platform: PlatformDestinationRules): DestinationRefusal | null {
  const where = describeTarget(host, port);
  const platformRefusal = checkPlatformRules(host, port, platform);
  if (platformRefusal) return platformRefusal;
  const target = classifyHost(host)!;
  if (!policy) {
    return { code: 'no_destination_policy', message: `${where}: the team's policy allows no destination hosts (ask an admin to set destinationHosts)` };
  }
  if (target.kind === 'ip') {
    const address = unmapped(ipToOctets(target.address));
    if (!policy.cidrs.some((cidr) => rangeContains(parseAddressRange(cidr), address))) {
      return { code: 'address_not_allowed', message: `${where}: ${target.address} is outside the team's allowed ranges (${policy.cidrs.join(', ') || 'none configured'})` };
    }
  } else if (!policy.zones.some((zone) => isWithinZone(target.name, zone))) {
    return { code: 'host_not_allowed', message: `${where}: "${target.name}" is outside the team's allowed zones (${policy.zones.join(', ') || 'none configured'})` };
  }
  if (policy.ports.length > 0 && !policy.ports.includes(port)) {
    return { code: 'port_not_allowed', message: `${where}: port ${port} is not among the team's allowed ports (${policy.ports.join(', ')})` };
  }
  return null;
}

/** The platform's half of checkDestinationHost: the deny list, its exceptions and the platform's own services. */
export function checkPlatformRules(host: string, port: number, platform: PlatformDestinationRules): DestinationRefusal | null {
  const where = describeTarget(host, port);
  const target = classifyHost(host);
  if (!target) return { code: 'host_invalid', message: `${where}: "${host}" is neither a DNS name nor an IP address in a standard form` };
  if (target.kind === 'ip') return checkResolvedAddress(target.address, port, platform);
  if (isLoopbackName(target.name)) {
    const denied = checkResolvedAddress('127.0.0.1', port, platform);
    if (denied) return { code: denied.code, message: `"${target.name}" always means this host (RFC 6761), so: ${denied.message}` };
  }
  const service = platform.services.find((candidate) => candidate.port === port && candidate.host.toLowerCase() === target.name);
  return service ? platformServiceRefusal(where, service) : null;
}

/**
 * The rules a registered cluster's API server is held to (docs/kubernetes.md): a platform admin
 * named it, so no team's `destinationHosts` applies and neither do the operator's `extraDenied`
 * ranges (they keep teams away from, often, exactly these API servers); the fixed deny list (with
 * the operator's exceptions) and the platform's own services still apply.
 */
export function registeredClusterRules(platform: PlatformDestinationRules): PlatformDestinationRules {
  return { ...platform, extraDenied: [] };
}

/**
 * Connect time, for every address a host resolved to (and for IP literals): the platform's deny
 * list, its own services (on loopback, unspecified and their literal addresses, plus `serviceAddresses`,
 * the addresses their host names resolved to) and the operator's extra ranges.
 */
export function checkResolvedAddress(address: string, port: number, platform: PlatformDestinationRules, serviceAddresses: ReadonlyMap<string, string[]> = new Map()): DestinationRefusal | null {
  const where = describeTarget(address, port);
  let octets: Uint8Array;
  try {
    octets = ipToOctets(canonicalizeIp(address));
  } catch {
    return { code: 'host_invalid', message: `${where}: "${address}" is not an IP address` };
  }
  const forms = [octets, embeddedIpv4(octets)].filter((form): form is Uint8Array => form !== null);
  const canonical = canonicalizeIp(address);
  const service = platform.services.find(
    (candidate) =>
      candidate.port === port &&
      (forms.some((form) => LOCAL.some((range) => rangeContains(range, form))) ||
        sameAddress(candidate.host, octets) ||
        (serviceAddresses.get(candidate.host) ?? []).some((resolved) => sameAddress(resolved, octets))),
  );
  if (service) return platformServiceRefusal(where, service);
  const extra = platform.extraDenied.map(parseAddressRange).find((range) => forms.some((form) => rangeContains(range, form)));
  if (extra) return { code: 'address_denied', message: `${where}: ${canonical} is in ${extra.text}, which the platform denies` };
  const exceptions: AddressRange[] = platform.allowedExceptions.map(parseAddressRange);
  for (const form of forms) {
    const denied = DENIED.find(({ range }) => rangeContains(range, form));
    if (denied && !exceptions.some((range) => rangeContains(range, form))) {
      return { code: 'address_denied', message: `${where}: ${canonical} is ${denied.kind}, which the platform denies` };
    }
  }
  return null;
}

function platformServiceRefusal(where: string, service: PlatformService): DestinationRefusal {
  return { code: 'platform_service', message: `${where}: this is where the platform's own ${service.name} may listen; it is never a destination` };
}

/**
 * Whether `host` (an IP literal, brackets allowed; a name never matches) is the same destination as
 * `octets`, compared by value: an IPv6 form that embeds an IPv4 address (mapped, compatible, NAT64,
 * 6to4) counts as that IPv4 address, so `::ffff:10.0.0.5` or `64:ff9b::a00:5` is the service at 10.0.0.5.
 */
function sameAddress(host: string, octets: Uint8Array): boolean {
  let hostOctets: Uint8Array;
  try {
    hostOctets = ipToOctets(canonicalizeIp(host.replace(/^\[(.*)\]$/, '$1')));
  } catch {
    return false;
  }
  const a = reachedAddress(hostOctets);
  const b = reachedAddress(octets);
  return a.length === b.length && a.every((octet, index) => octet === b[index]);
}

/** The address a connection reaches: the IPv4 address an IPv6 form embeds, else the address itself. */
function reachedAddress(octets: Uint8Array): Uint8Array {
  return embeddedIpv4(octets) ?? octets;
}

function describeTarget(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Parses the operator's list (`loopback`, CIDRs, comma-separated); throws with the offending entry. */
export function parseRangeList(text: string): string[] {
  return text
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .flatMap((entry) => (entry === 'loopback' ? [...LOOPBACK_RANGES] : [parseAddressRange(entry).text]));
}

/**
 * Scan targets (`POST /v1/teams/:id/scans`): `host:port`, `[v6]:port`, or an IPv4 range
 * `a.b.c.d/nn:port`, expanded to the endpoints to connect to. Ranges are bounded (at most /24 each),
 * and so is the whole scan, so that one request cannot turn into a sweep of a network.
 */
import { canonicalizeDnsName, NameError } from './names.js';

export const MAX_RANGE_PREFIX = 24;
export const MAX_SCAN_ENDPOINTS = 1024;

export interface ScanEndpoint {
  host: string;
  port: number;
  /** `host:port` (`[v6]:port`), as sightings record it. */
  endpoint: string;
}

export type TargetResult = { endpoints: ScanEndpoint[] } | { error: string };

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function expandScanTarget(target: string): TargetResult {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:/[\]]+)(?:\/(\d{1,2}))?):(\d{1,5})$/.exec(target.trim());
  if (!match) return { error: 'expected host:port, [IPv6]:port or an IPv4 range a.b.c.d/nn:port' };
  const port = Number(match[4]);
  if (port < 1 || port > 65535) return { error: `port ${port} is outside 1-65535` };
  if (match[1]) return { endpoints: [{ host: match[1].toLowerCase(), port, endpoint: `[${match[1].toLowerCase()}]:${port}` }] };
  const host = match[2]!;
  const v4 = IPV4.exec(host);
  if (match[3] !== undefined) {
    if (!v4) return { error: 'a range must be an IPv4 CIDR (a.b.c.d/nn)' };
    const prefix = Number(match[3]);
    if (prefix < MAX_RANGE_PREFIX || prefix > 32) return { error: `range /${prefix} is too large: at most /${MAX_RANGE_PREFIX} (256 addresses) per target` };
    const base = ipv4ToNumber(v4);
    if (base === null) return { error: `"${host}" is not an IPv4 address` };
    const size = 2 ** (32 - prefix);
    const start = base - (base % size);
    return { endpoints: Array.from({ length: size }, (_, index) => numberToIpv4(start + index)).map((address) => ({ host: address, port, endpoint: `${address}:${port}` })) };
  }
  if (v4) {
    if (ipv4ToNumber(v4) === null) return { error: `"${host}" is not an IPv4 address` };
    return { endpoints: [{ host, port, endpoint: `${host}:${port}` }] };
  }
  try {
    const name = canonicalizeDnsName(host);
    return { endpoints: [{ host: name, port, endpoint: `${name}:${port}` }] };
  } catch (error) {
    return { error: error instanceof NameError ? error.message : `"${host}" is not a host name` };
  }
}

function ipv4ToNumber(match: RegExpExecArray): number | null {
  const octets = match.slice(1, 5).map(Number);
  if (octets.some((octet) => octet > 255)) return null;
  return ((octets[0]! * 256 + octets[1]!) * 256 + octets[2]!) * 256 + octets[3]!;
}

function numberToIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

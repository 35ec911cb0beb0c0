/**
 * IP address canonicalization for iPAddress SANs. Pure and workflow-safe (no node: imports).
 * IPv4: strict dotted quad only (no leading zeros, no octal/hex, no shortened forms).
 * IPv6: any RFC 4291 text form in, RFC 5952 canonical form out; IPv4-mapped addresses are written
 * `::ffff:a.b.c.d` (RFC 5952 §5). Zone ids (`%eth0`) and brackets are refused: a certificate
 * carries the address only.
 */
export class IpError extends Error {
  constructor(
    readonly input: string,
    readonly reason: string,
  ) {
    super(`"${input}" is not a valid IP address: ${reason}`);
    this.name = 'IpError';
  }
}

/** Longest text form: 8 groups of 4 hex digits and 7 colons, or the mixed form with a dotted quad. */
const MAX_IP_TEXT_LENGTH = 45;
const DECIMAL_OCTET = /^(?:0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** Returns the canonical text of an IPv4 or IPv6 address, or throws IpError saying what is wrong. */
export function canonicalizeIp(text: string): string {
  return formatIp(parseIp(text));
}

/**
 * The 4 or 16 octets of a canonical address, as the iPAddress GeneralName carries them.
 * Only canonical text is accepted, so a caller that skipped canonicalizeIp finds out here.
 */
export function ipToOctets(canonical: string): Uint8Array {
  const octets = parseIp(canonical);
  if (formatIp(octets) !== canonical) {
    throw new IpError(canonical, `it is not in canonical form ("${formatIp(octets)}"); pass it through canonicalizeIp first`);
  }
  return octets;
}

function parseIp(text: string): Uint8Array {
  if (text.length === 0) throw new IpError(text, 'it is empty');
  if (text.length > MAX_IP_TEXT_LENGTH) throw new IpError(text, `it is ${text.length} characters long; no IP address is longer than ${MAX_IP_TEXT_LENGTH}`);
  if (text.includes('%')) throw new IpError(text, 'zone ids ("%eth0") are local to one host and cannot go into a certificate; remove the zone id');
  if (text.startsWith('[') || text.endsWith(']')) throw new IpError(text, 'remove the square brackets');
  if (/[^0-9a-fA-FxX.:]/.test(text)) throw new IpError(text, 'it may contain only digits, hex digits, dots and colons (no spaces, ports or prefix lengths)');
  return text.includes(':') ? parseIpv6(text) : parseIpv4(text);
}

function parseIpv4(text: string): Uint8Array {
  return parseIpv4Parts(text, text, 'an IPv4 address needs exactly four decimal parts (e.g. "192.0.2.1"); shortened, hex and single-number forms are not accepted');
}

function parseIpv4Parts(text: string, dotted: string, countMessage: string): Uint8Array {
  const parts = dotted.split('.');
  if (parts.length !== 4) throw new IpError(text, countMessage);
  return Uint8Array.from(parts.map((part) => parseDecimalOctet(text, part)));
}

function parseDecimalOctet(text: string, part: string): number {
  if (part.length === 0) throw new IpError(text, 'it has an empty part');
  if (!DECIMAL_OCTET.test(part)) {
    throw new IpError(text, `part "${part}" must be a decimal number 0–255 without leading zeros (leading zeros read as octal in some software)`);
  }
  const value = Number(part);
  if (value > 255) throw new IpError(text, `part "${part}" is larger than 255`);
  return value;
}

function parseIpv6(text: string): Uint8Array {
  const halves = text.split('::');
  if (halves.length > 2) throw new IpError(text, '"::" may appear only once');
  const compressed = halves.length === 2;
  const head = groupsOf(text, halves[0]!, !compressed);
  const tail = compressed ? groupsOf(text, halves[1]!, true) : [];
  const count = head.length + tail.length;
  if (!compressed && count !== 8) throw new IpError(text, `it has ${count} groups; an IPv6 address has 8 (or fewer with "::")`);
  if (compressed && count > 7) throw new IpError(text, `it has ${count} groups besides "::"; with "::" there can be at most 7`);
  const groups = [...head, ...new Array<number>(8 - count).fill(0), ...tail];
  const octets = new Uint8Array(16);
  groups.forEach((group, index) => {
    octets[2 * index] = group >> 8;
    octets[2 * index + 1] = group & 0xff;
  });
  return octets;
}

/** The 16-bit groups of one side of "::" (an empty side has none); a dotted quad may end the address and counts as two. */
function groupsOf(text: string, side: string, mayEndInIpv4: boolean): number[] {
  if (side.length === 0) return [];
  const parts = side.split(':');
  return parts.flatMap((part, index) => {
    if (part.length === 0) throw new IpError(text, 'it has an empty group (a single ":" at the start or end, or ":::")');
    if (!part.includes('.')) return [parseHexGroup(text, part)];
    if (!mayEndInIpv4 || index !== parts.length - 1) throw new IpError(text, 'an embedded IPv4 address may only be the last part');
    const octets = parseIpv4Parts(text, part, `embedded IPv4 address "${part}" needs exactly four decimal parts`);
    return [(octets[0]! << 8) | octets[1]!, (octets[2]! << 8) | octets[3]!];
  });
}

function parseHexGroup(text: string, group: string): number {
  if (!HEX_GROUP.test(group)) throw new IpError(text, `group "${group}" must be 1 to 4 hex digits`);
  return parseInt(group, 16);
}

function formatIp(octets: Uint8Array): string {
  return octets.length === 4 ? Array.from(octets).join('.') : formatIpv6(octets);
}

/** RFC 5952 §4: lower-case hex, no leading zeros, the longest run (≥ 2) of zero groups as "::", the first on a tie. */
function formatIpv6(octets: Uint8Array): string {
  const groups = Array.from({ length: 8 }, (_, index) => (octets[2 * index]! << 8) | octets[2 * index + 1]!);
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    return `::ffff:${Array.from(octets.subarray(12)).join('.')}`;
  }
  const run = longestZeroRun(groups);
  const hex = (part: number[]): string => part.map((group) => group.toString(16)).join(':');
  if (run.length < 2) return hex(groups);
  return `${hex(groups.slice(0, run.start))}::${hex(groups.slice(run.start + run.length))}`;
}

function longestZeroRun(groups: number[]): { start: number; length: number } {
  let best = { start: 0, length: 0 };
  let start = -1;
  groups.forEach((group, index) => {
    if (group !== 0) {
      start = -1;
      return;
    }
    if (start < 0) start = index;
    const length = index - start + 1;
    if (length > best.length) best = { start, length };
  });
  return best;
}

/** An address block: the network's octets (host bits zero) and the prefix length. */
export interface Cidr {
  octets: Uint8Array;
  prefixLength: number;
}

/**
 * Parses `address/prefix` (IPv4 or IPv6) strictly: the address in any form canonicalizeIp accepts,
 * a decimal prefix within the family's width, and no host bits set (so "10.0.0.1/8" is refused
 * with the network it probably meant). A bare address is not a CIDR.
 */
export function parseCidr(text: string): Cidr {
  const slash = text.indexOf('/');
  if (slash < 0) throw new IpError(text, 'a range needs a prefix length, e.g. "10.0.0.0/8", "2001:db8::/32" or "192.0.2.7/32" for one address');
  const octets = parseIp(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  const width = octets.length * 8;
  if (!/^(?:0|[1-9][0-9]{0,2})$/.test(prefixText) || Number(prefixText) > width) {
    throw new IpError(text, `the prefix length must be a decimal number from 0 to ${width}`);
  }
  const prefixLength = Number(prefixText);
  const network = maskOctets(octets, prefixLength);
  if (network.some((octet, index) => octet !== octets[index])) {
    throw new IpError(text, `it has host bits set; the network is "${formatIp(network)}/${prefixLength}"`);
  }
  return { octets: network, prefixLength };
}

/** The canonical text of a CIDR: canonical address, "/", prefix length. */
export function canonicalizeCidr(text: string): string {
  const cidr = parseCidr(text);
  return `${formatIp(cidr.octets)}/${cidr.prefixLength}`;
}

/**
 * True when the (canonical or not) address lies in the block. An IPv4-mapped IPv6 address
 * (`::ffff:10.0.0.1`) names the IPv4 host (clients treat the two as one address), so it matches
 * IPv4 blocks only: an IPv6 range such as `::/0` never admits an IPv4 host in disguise.
 */
export function cidrContains(cidr: Cidr, address: string): boolean {
  const octets = unmapIpv4(parseIp(address));
  if (octets.length !== cidr.octets.length) return false;
  return maskOctets(octets, cidr.prefixLength).every((octet, index) => octet === cidr.octets[index]);
}

/** The IPv4 octets of an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`); any other address as it is. */
function unmapIpv4(octets: Uint8Array): Uint8Array {
  const mapped = octets.length === 16 && octets.subarray(0, 10).every((octet) => octet === 0) && octets[10] === 0xff && octets[11] === 0xff;
  return mapped ? octets.slice(12) : octets;
}

/** The subnet mask of a CIDR as octets (e.g. /20 → 255.255.240.0), as an iPAddress name constraint carries it. */
export function cidrMask(cidr: Cidr): Uint8Array {
  return maskOctets(new Uint8Array(cidr.octets.length).fill(0xff), cidr.prefixLength);
}

function maskOctets(octets: Uint8Array, prefixLength: number): Uint8Array {
  return Uint8Array.from(octets, (octet, index) => {
    const bits = Math.min(8, Math.max(0, prefixLength - index * 8));
    return octet & ((0xff << (8 - bits)) & 0xff);
  });
}

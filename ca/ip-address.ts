/**
 * IP addresses in subjectAltName: text ↔ the 4 or 16 octets an iPAddress GeneralName carries.
 * The canonical text is dotted decimal for IPv4 and RFC 5952 for IPv6 (lower case, no leading
 * zeros, the longest run of two or more zero groups written as "::").
 */

export class IpAddressError extends Error {
  constructor(
    readonly address: string,
    readonly reason: string,
  ) {
    super(`"${address}" is not a valid IP address: ${reason}`);
    this.name = 'IpAddressError';
  }
}

const IPV4_OCTET = /^(?:0|[1-9]\d{0,2})$/;
const IPV6_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** The 4 (IPv4) or 16 (IPv6) octets of an address written as text; throws IpAddressError. */
export function ipAddressOctets(text: string): Buffer {
  if (text.includes(':')) return ipv6Octets(text);
  const octets = ipv4Octets(text);
  if (!octets) throw new IpAddressError(text, 'write IPv4 as four decimal numbers 0–255 without leading zeros, e.g. 10.0.0.1');
  return octets;
}

/** The canonical text of 4 or 16 octets. */
export function formatIpAddress(octets: Uint8Array): string {
  if (octets.length === 4) return Array.from(octets).join('.');
  if (octets.length !== 16) throw new IpAddressError(Buffer.from(octets).toString('hex'), `it has ${octets.length} octets, not 4 or 16`);
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((octets[i]! << 8) | octets[i + 1]!);
  // RFC 5952 §4.2: compress the longest run (the first on a tie) of at least two zero groups.
  let bestStart = -1;
  let bestLength = 1;
  for (let start = 0; start < 8; start++) {
    let end = start;
    while (end < 8 && groups[end] === 0) end++;
    if (end - start > bestLength) {
      bestStart = start;
      bestLength = end - start;
    }
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** The canonical text of an address; throws IpAddressError. */
export function normalizeIpAddress(text: string): string {
  return formatIpAddress(ipAddressOctets(text));
}

function ipv4Octets(text: string): Buffer | null {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((part) => IPV4_OCTET.test(part) && Number(part) <= 255)) return null;
  return Buffer.from(parts.map(Number));
}

function ipv6Octets(text: string): Buffer {
  if (text.includes('%')) throw new IpAddressError(text, 'zone identifiers (%…) cannot appear in a certificate');
  const halves = text.split('::');
  if (halves.length > 2) throw new IpAddressError(text, '"::" may appear only once');
  const groupsOf = (half: string | undefined): string[] => (half ? half.split(':') : []);
  const head = groupsOf(halves[0]);
  const tail = groupsOf(halves[1]);
  // An embedded IPv4 address (e.g. ::ffff:10.0.0.1) stands for the last two groups.
  const last = (halves.length === 2 ? tail : head).pop();
  const embedded = last !== undefined && last.includes('.') ? ipv4Octets(last) : null;
  if (last !== undefined && last.includes('.') && !embedded) throw new IpAddressError(text, `"${last}" is not a valid embedded IPv4 address`);
  if (last !== undefined && !embedded) (halves.length === 2 ? tail : head).push(last);
  const groupCount = head.length + tail.length + (embedded ? 2 : 0);
  if (halves.length === 1 ? groupCount !== 8 : groupCount > 7) throw new IpAddressError(text, 'an IPv6 address has eight 16-bit groups');
  for (const group of [...head, ...tail]) {
    if (!IPV6_GROUP.test(group)) throw new IpAddressError(text, `"${group}" is not a group of 1–4 hexadecimal digits`);
  }
  const octets = Buffer.alloc(16);
  head.forEach((group, i) => octets.writeUInt16BE(Number.parseInt(group, 16), i * 2));
  const tailStart = 8 - tail.length - (embedded ? 2 : 0);
  tail.forEach((group, i) => octets.writeUInt16BE(Number.parseInt(group, 16), (tailStart + i) * 2));
  if (embedded) embedded.copy(octets, 12);
  return octets;
}

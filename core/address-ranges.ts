/**
 * CIDR ranges of IPv4 and IPv6 addresses, over the octets core/ip.ts parses. Pure and workflow-safe.
 */
import { canonicalizeIp, IpError, ipToOctets } from './ip.js';

export interface AddressRange {
  /** The network's octets (4 or 16), host bits cleared. */
  octets: Uint8Array;
  prefix: number;
  /** Canonical text, e.g. `10.0.0.0/8`, `fe80::/10`. */
  text: string;
}

/** Parses `a.b.c.d/n` or `x::/n` (a bare address is a /32 or /128); host bits must be zero. Throws IpError. */
export function parseAddressRange(text: string): AddressRange {
  const [address = '', prefixText, ...rest] = text.trim().split('/');
  if (rest.length > 0) throw new IpError(text, 'a range has one "/" between the address and the prefix length');
  const octets = ipToOctets(canonicalizeIp(address));
  const bits = octets.length * 8;
  if (prefixText !== undefined && !/^(?:0|[1-9][0-9]{0,2})$/.test(prefixText)) throw new IpError(text, `the prefix length must be a number from 0 to ${bits}`);
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  if (prefix > bits) throw new IpError(text, `the prefix length must be at most ${bits}`);
  const network = masked(octets, prefix);
  if (!network.every((octet, index) => octet === octets[index])) {
    throw new IpError(text, `host bits are set; the network is ${formatRange(network, prefix)}`);
  }
  return { octets: network, prefix, text: formatRange(network, prefix) };
}

/** True when `address` (octets of the same family as the range) lies in `range`. */
export function rangeContains(range: AddressRange, address: Uint8Array): boolean {
  if (address.length !== range.octets.length) return false;
  const network = masked(address, range.prefix);
  return network.every((octet, index) => octet === range.octets[index]);
}

/**
 * The IPv4 address an IPv6 address stands for, where connecting to it may reach that IPv4 host:
 * IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`, deprecated), NAT64 (`64:ff9b::/96`)
 * and 6to4 (`2002:aabb:ccdd::/48`). Null for IPv4 addresses and other IPv6 addresses.
 */
export function embeddedIpv4(address: Uint8Array): Uint8Array | null {
  if (address.length !== 16) return null;
  const zeros = (from: number, to: number) => address.subarray(from, to).every((octet) => octet === 0);
  if (zeros(0, 10) && address[10] === 0xff && address[11] === 0xff) return address.slice(12);
  // `::1` and `::` are IPv6's own loopback and unspecified addresses, not IPv4-compatible ones.
  if (zeros(0, 12) && address[12] !== 0) return address.slice(12);
  if (address[0] === 0x00 && address[1] === 0x64 && address[2] === 0xff && address[3] === 0x9b && zeros(4, 12)) return address.slice(12);
  if (address[0] === 0x20 && address[1] === 0x02) return address.slice(2, 6);
  return null;
}

/** `::ffff:a.b.c.d` read as the IPv4 address it is (the same host); any other address unchanged. */
export function unmapped(address: Uint8Array): Uint8Array {
  if (address.length !== 16) return address;
  const mapped = address.subarray(0, 10).every((octet) => octet === 0) && address[10] === 0xff && address[11] === 0xff;
  return mapped ? address.slice(12) : address;
}

function masked(octets: Uint8Array, prefix: number): Uint8Array {
  return octets.map((octet, index) => {
    const bitsHere = Math.max(0, Math.min(8, prefix - index * 8));
    return bitsHere === 0 ? 0 : octet & ((0xff << (8 - bitsHere)) & 0xff);
  });
}

function formatRange(octets: Uint8Array, prefix: number): string {
  const address = octets.length === 4 ? Array.from(octets).join('.') : canonicalizeIp(ipv6Text(octets));
  return `${address}/${prefix}`;
}

function ipv6Text(octets: Uint8Array): string {
  const groups: string[] = [];
  for (let index = 0; index < 16; index += 2) groups.push(((octets[index]! << 8) | octets[index + 1]!).toString(16));
  return groups.join(':');
}

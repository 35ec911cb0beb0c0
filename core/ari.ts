/**
 * ACME Renewal Information (RFC 9773), the pure part: the certificate identifier a client sends
 * (`base64url(AKI keyIdentifier) "." base64url(serial INTEGER contents)`, §4.1) and the renewal
 * window Certflow suggests (§4.2). The HTTP endpoint and the lookups live in api/acme/.
 */
import { BASE64URL_ALPHABET, encodeBase64url } from './base64url.js';

export interface AriCertId {
  /** The Authority Key Identifier's keyIdentifier, lowercase hex. */
  keyIdentifierHex: string;
  /** The serial as Certflow stores it: lowercase hex without leading zero octets (ca/serial.ts canonicalSerial). */
  serialHex: string;
}

export class AriCertIdError extends Error {
  override name = 'AriCertIdError';
}

const BASE64URL_TEXT = /^[A-Za-z0-9_-]+$/;

/** Parses a certID. Refuses padding, other alphabets, empty parts, and a serial that is not a minimally encoded positive INTEGER. */
export function parseAriCertId(text: string): AriCertId {
  const parts = text.split('.');
  if (parts.length !== 2) throw new AriCertIdError('a certID is two base64url parts joined by "."');
  const [keyIdentifierText, serialText] = parts as [string, string];
  const keyIdentifier = decodeBase64url(keyIdentifierText, 'keyIdentifier');
  const serial = decodeBase64url(serialText, 'serial');
  if (serial[0]! & 0x80) throw new AriCertIdError('the serial is negative: a DER INTEGER with its top bit set');
  if (serial.length > 1 && serial[0] === 0 && !(serial[1]! & 0x80)) throw new AriCertIdError('the serial has a superfluous leading zero octet (not DER)');
  return { keyIdentifierHex: toHex(keyIdentifier), serialHex: canonicalHex(toHex(serial)) };
}

/** The certID of a certificate, from its AKI keyIdentifier and its serial (any hex form). */
export function formatAriCertId(id: AriCertId): string {
  const serialHex = canonicalHex(id.serialHex.toLowerCase());
  const serial = fromHex(serialHex);
  // DER INTEGER contents: a positive value whose top bit is set gets a leading zero octet.
  const contents = serial[0]! & 0x80 ? [0, ...serial] : serial;
  return `${encodeBase64url(fromHex(id.keyIdentifierHex.toLowerCase()))}.${encodeBase64url(contents)}`;
}

export interface RenewalWindow {
  start: Date;
  end: Date;
  /** Set when Certflow wants the certificate replaced now (bulk reissue, revocation, compromised issuer). */
  explanationUrl?: string;
}

/**
 * The window an ACME client is asked to renew in: from Certflow's renewal time to the midpoint
 * between it and notAfter, so a client that renews at a random moment inside it still has time
 * left. A forced renewal moves the whole window into the past (§4.2: renew immediately).
 */
export function suggestedWindow(input: { renewAt: Date; notAfter: Date; forced?: { at: Date; explanationUrl: string } }): RenewalWindow {
  if (input.forced) {
    const end = new Date(input.forced.at.getTime() - 1000);
    return { start: new Date(end.getTime() - 60_000), end, explanationUrl: input.forced.explanationUrl };
  }
  const start = input.renewAt.getTime();
  const end = Math.max(start + 1000, start + Math.floor((input.notAfter.getTime() - start) / 2));
  return { start: new Date(start), end: new Date(end) };
}

function decodeBase64url(text: string, part: string): number[] {
  if (text.length === 0 || !BASE64URL_TEXT.test(text) || text.length % 4 === 1) {
    throw new AriCertIdError(`the ${part} part must be non-empty unpadded base64url`);
  }
  const bytes: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const character of text) {
    buffer = (buffer << 6) | BASE64URL_ALPHABET.indexOf(character);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((buffer >> bits) & 0xff);
    }
  }
  // Unused low bits of the last character must be zero, or two texts would name one value.
  if (buffer & ((1 << bits) - 1)) throw new AriCertIdError(`the ${part} part is not canonical base64url`);
  return bytes;
}

function toHex(bytes: readonly number[]): string {
  return bytes.map((byte) => byte.toString(16).padStart(2, '0')).join('');
}

function fromHex(hex: string): number[] {
  if (!/^(?:[0-9a-f]{2})+$/.test(hex)) throw new AriCertIdError(`"${hex}" is not hexadecimal octets`);
  return Array.from({ length: hex.length / 2 }, (_, index) => parseInt(hex.slice(index * 2, index * 2 + 2), 16));
}

function canonicalHex(hex: string): string {
  let value = hex.length % 2 === 1 ? `0${hex}` : hex;
  while (value.length > 2 && value.startsWith('00')) value = value.slice(2);
  return value;
}

/**
 * DNS name canonicalization for certificate requests. Pure and workflow-safe (no node: imports).
 * Names are returned lower-cased; anything a strict client would refuse is refused here with a
 * message that names the offending part. Internationalized names must arrive as A-labels
 * (`xn--…`), which are decoded (RFC 3492) and checked: a well-formed A-label of a sensible U-label.
 */
import { canonicalizeIp } from './ip.js';

export const MAX_DNS_NAME_LENGTH = 253;
export const MAX_LABEL_LENGTH = 63;
export const MAX_SANS = 100;

const LDH_LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
const NUMERIC_TLD = /^(?:\d+|0x[0-9a-f]+)$/;
/** One part of an IPv4 address as inet_aton and the WHATWG URL parser read it: decimal, octal (leading 0) or hex (0x, even empty). */
const IPV4_NUMBER = /^(?:0x[0-9a-f]*|\d+)$/;
const A_LABEL_PREFIX = 'xn--';

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
  if (isIpAddressText(name)) {
    throw new NameError(raw, 'it is an IP address written as a DNS name; put IP addresses in ipAddresses (shortened, octal, hex and single-number IPv4 forms count too)');
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
    if (label.startsWith(A_LABEL_PREFIX)) {
      const problem = aLabelProblem(label);
      if (problem) throw new NameError(raw, problem);
    } else if (label.length >= 4 && label[2] === '-' && label[3] === '-') {
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

/** True for text that an IP stack or URL parser would read as an IP address rather than a host name. */
function isIpAddressText(name: string): boolean {
  const parts = name.split('.');
  if (parts.length <= 4 && parts.every((part) => IPV4_NUMBER.test(part))) return true;
  if (!name.includes(':')) return false;
  try {
    canonicalizeIp(name.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, ''));
    return true;
  } catch {
    return false;
  }
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

export class SanCountError extends Error {
  constructor(readonly count: number) {
    super(`the request carries ${count} subject alternative names; the limit is ${MAX_SANS}; split the names over several certificates`);
    this.name = 'SanCountError';
  }
}

/** Refuses more than MAX_SANS subject alternative names in all; count them after canonicalization and deduplication. */
export function checkSanCount(count: number): void {
  if (count > MAX_SANS) throw new SanCountError(count);
}

// ---------------------------------------------------------------------------------------------
// A-labels. An `xn--` label must be the Punycode (RFC 3492) of a U-label that IDNA2008 (RFC 5891
// §4.2, RFC 5892) would accept. The character rules below are a conservative approximation of
// IDNA2008's tables using Unicode properties, so results follow the runtime's Unicode version.
// ---------------------------------------------------------------------------------------------

/** Full stop lookalikes that some software treats as label separators (UTS #46). */
const FULL_STOP_LOOKALIKES = new Set([0x3002, 0xff0e, 0xff61]);
/** Control, format (e.g. bidi overrides, zero-width joiners), separators, surrogates, private use, unassigned. */
const INVISIBLE_OR_UNASSIGNED = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Z}]/u;
/** Symbols and punctuation: IDNA2008 disallows nearly all of them (e.g. U+2044 FRACTION SLASH, a classic "/" spoof). */
const SYMBOL_OR_PUNCTUATION = /[\p{S}\p{P}]/u;
const COMBINING_MARK = /^\p{M}/u;
/** Scripts whose letters are confusable with each other; one label mixing them is a homograph risk (cf. UTS #39). */
const CONFUSABLE_SCRIPTS: readonly [string, RegExp][] = [
  ['Latin', /\p{Script=Latin}/u],
  ['Cyrillic', /\p{Script=Cyrillic}/u],
  ['Greek', /\p{Script=Greek}/u],
];

const hex = (codePoint: number): string => `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;

/** Why an `xn--` label is not acceptable, or null when it is. `label` is lower-case LDH. */
function aLabelProblem(label: string): string | null {
  const encoded = label.slice(A_LABEL_PREFIX.length);
  const codePoints = punycodeDecode(encoded);
  const fix = 'convert the name with an IDNA2008 tool (e.g. `idn2`) and use the A-labels it prints';
  if (codePoints === null || codePoints.length === 0) return `label "${label}" is not valid Punycode; ${fix}`;
  if (punycodeEncode(codePoints) !== encoded) return `label "${label}" is not the canonical Punycode of what it decodes to; ${fix}`;
  const unicode = String.fromCodePoint(...codePoints);
  if (codePoints.every((codePoint) => codePoint < 0x80)) {
    return `label "${label}" decodes to the plain ASCII label "${unicode}"; write it as "${unicode}"`;
  }
  const lookalike = codePoints.find((codePoint) => FULL_STOP_LOOKALIKES.has(codePoint));
  if (lookalike !== undefined) return `label "${label}" decodes to text containing a full stop lookalike (${hex(lookalike)}); ${fix}`;
  const invisible = codePoints.find((codePoint) => INVISIBLE_OR_UNASSIGNED.test(String.fromCodePoint(codePoint)));
  if (invisible !== undefined) {
    return `label "${label}" decodes to text containing a space, control, invisible or unassigned character (${hex(invisible)}); ${fix}`;
  }
  if (unicode.toLowerCase() !== unicode) return `label "${label}" decodes to text with upper-case letters ("${unicode}"); IDNA2008 allows only lower case; ${fix}`;
  if (unicode.normalize('NFC') !== unicode) return `label "${label}" decodes to text that is not in Unicode normalization form C; ${fix}`;
  if (unicode.normalize('NFKC') !== unicode) {
    return `label "${label}" decodes to text with compatibility characters (e.g. full-width letters or ligatures), which IDNA2008 disallows; ${fix}`;
  }
  const symbol = codePoints.find((codePoint) => codePoint >= 0x80 && SYMBOL_OR_PUNCTUATION.test(String.fromCodePoint(codePoint)));
  if (symbol !== undefined) return `label "${label}" decodes to text containing a symbol or punctuation character (${hex(symbol)}); ${fix}`;
  if (COMBINING_MARK.test(unicode)) return `label "${label}" decodes to text that begins with a combining mark; ${fix}`;
  if (unicode.startsWith('-') || unicode.endsWith('-')) return `label "${label}" decodes to text that begins or ends with a hyphen; ${fix}`;
  if (unicode.slice(2, 4) === '--') return `label "${label}" decodes to text with hyphens in positions 3 and 4; ${fix}`;
  const scripts = CONFUSABLE_SCRIPTS.filter(([, pattern]) => pattern.test(unicode)).map(([script]) => script);
  if (scripts.length > 1) {
    return `label "${label}" ("${unicode}") mixes ${scripts.join(' and ')} letters, which look alike (a homograph risk); write each label in one script`;
  }
  return null;
}

// Punycode (RFC 3492 §5) parameters for IDNA.
const BASE = 36;
const T_MIN = 1;
const T_MAX = 26;
const SKEW = 38;
const DAMP = 700;
const INITIAL_BIAS = 72;
const INITIAL_N = 0x80;
const MAX_INT = 0x7fffffff;
const MAX_CODE_POINT = 0x10ffff;

/** RFC 3492 §6.1. */
function adapt(delta: number, numPoints: number, firstTime: boolean): number {
  let scaled = firstTime ? Math.floor(delta / DAMP) : Math.floor(delta / 2);
  scaled += Math.floor(scaled / numPoints);
  let k = 0;
  while (scaled > ((BASE - T_MIN) * T_MAX) >> 1) {
    scaled = Math.floor(scaled / (BASE - T_MIN));
    k += BASE;
  }
  return k + Math.floor(((BASE - T_MIN + 1) * scaled) / (scaled + SKEW));
}

/** The threshold t for digit position k (RFC 3492 §6.2). */
function threshold(k: number, bias: number): number {
  return k <= bias ? T_MIN : k >= bias + T_MAX ? T_MAX : k - bias;
}

/** a–z are 0–25, 0–9 are 26–35; anything else (including upper case: labels are lower-cased first) is -1. */
function digitValue(char: string): number {
  const code = char.charCodeAt(0);
  if (code >= 0x61 && code <= 0x7a) return code - 0x61;
  if (code >= 0x30 && code <= 0x39) return code - 0x30 + 26;
  return -1;
}

function digitChar(digit: number): string {
  return String.fromCharCode(digit < 26 ? 0x61 + digit : 0x30 + digit - 26);
}

/** Decodes Punycode (RFC 3492 §6.2) to code points; null when it is malformed or overflows. */
export function punycodeDecode(input: string): number[] | null {
  const delimiter = input.lastIndexOf('-');
  const output = delimiter > 0 ? Array.from(input.slice(0, delimiter), (char) => char.charCodeAt(0)) : [];
  if (output.some((codePoint) => codePoint >= 0x80)) return null;
  let n = INITIAL_N;
  let i = 0;
  let bias = INITIAL_BIAS;
  let position = delimiter > 0 ? delimiter + 1 : 0;
  while (position < input.length) {
    const oldI = i;
    let weight = 1;
    for (let k = BASE; ; k += BASE) {
      if (position >= input.length) return null;
      const digit = digitValue(input[position++]!);
      if (digit < 0 || digit > Math.floor((MAX_INT - i) / weight)) return null;
      i += digit * weight;
      const t = threshold(k, bias);
      if (digit < t) break;
      if (weight > Math.floor(MAX_INT / (BASE - t))) return null;
      weight *= BASE - t;
    }
    const length = output.length + 1;
    bias = adapt(i - oldI, length, oldI === 0);
    if (Math.floor(i / length) > MAX_INT - n) return null;
    n += Math.floor(i / length);
    i %= length;
    if (n > MAX_CODE_POINT) return null;
    output.splice(i, 0, n);
    i++;
  }
  return output;
}

/** Encodes code points as Punycode (RFC 3492 §6.3); labels are at most 63 characters, so no overflow is possible. */
export function punycodeEncode(codePoints: readonly number[]): string {
  const basic = codePoints.filter((codePoint) => codePoint < 0x80);
  let output = String.fromCharCode(...basic);
  if (basic.length > 0) output += '-';
  let n = INITIAL_N;
  let delta = 0;
  let bias = INITIAL_BIAS;
  let handled = basic.length;
  while (handled < codePoints.length) {
    const next = Math.min(...codePoints.filter((codePoint) => codePoint >= n));
    delta += (next - n) * (handled + 1);
    n = next;
    for (const codePoint of codePoints) {
      if (codePoint < n) delta++;
      if (codePoint !== n) continue;
      let q = delta;
      for (let k = BASE; ; k += BASE) {
        const t = threshold(k, bias);
        if (q < t) break;
        output += digitChar(t + ((q - t) % (BASE - t)));
        q = Math.floor((q - t) / (BASE - t));
      }
      output += digitChar(q);
      bias = adapt(delta, handled + 1, handled === basic.length);
      delta = 0;
      handled++;
    }
    delta++;
    n++;
  }
  return output;
}

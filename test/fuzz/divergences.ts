/**
 * The allowed divergences of Certflow's DER readers from the oracles (openssl, pkijs), and the
 * tally of how often each one was seen. Only one direction may diverge: an oracle accepts and
 * Certflow refuses, for a reason listed here (docs/security.md, "Fuzzing"). Certflow accepting what
 * an oracle refuses is always a failure.
 */
import { isWellFormedDer } from './der-mutations.js';
import { pkijsExtensionRequestProblem } from './oracles.js';

export interface AllowedDivergence {
  id: string;
  /** Why Certflow is right to refuse what the oracle accepts. */
  why: string;
  /** Matches Certflow's refusal message. */
  refusal: RegExp;
  /** An independent check that the input has the flaw the rule is about; without it the message decides. */
  witness?: (der: Buffer) => boolean;
}

/**
 * openssl keeps some parts opaque (attribute values, ANY) and asn1js tolerates a child that overruns
 * its parent, so a malformed part can pass both. Allowed only with a witness: the test's own TLV
 * walker (der-mutations.ts) finds the nesting broken.
 */
const MALFORMED_UNREAD_BY_ORACLES: AllowedDivergence = {
  id: 'malformed-where-oracles-do-not-look',
  why: 'the input is not well-formed DER (a child overruns its parent, a stray byte) in a part the oracles keep opaque or parse leniently; Certflow reads or checks every part',
  refusal: /./,
  witness: (der) => !isWellFormedDer(der),
};

/** Found where openssl keeps a part opaque (an attribute value) and asn1js decodes an empty OID without complaint. */
const INVALID_OID: AllowedDivergence = {
  id: 'invalid-oid',
  why: 'an OBJECT IDENTIFIER with no content or whose last arc is cut off is not an OID (X.690 §8.19); the oracles let it pass where they keep the part opaque',
  refusal: /is an empty OBJECT IDENTIFIER|ends in the middle of an arc/,
};

/** Shared by the CSR subject and the OCSP requestorName (ca/name-reader.ts). */
const NAME_VALUE_TYPES: AllowedDivergence = {
  id: 'name-value-types',
  why: "a Name's attribute values must be well-formed strings of the types RFC 5280 uses (UTF8, Printable, IA5, Teletex, BMP, Universal, Numeric); openssl also accepts unknown universal types, BIT STRINGs and SEQUENCEs there",
  refusal: /unsupported string type 0x[0-9a-f]+ in a name|a name attribute is not a valid/,
};

const DER_NOT_BER: AllowedDivergence = {
  id: 'der-not-ber',
  why: 'Certflow reads DER only (X.690 §10: minimal definite lengths, no indefinite length, minimal INTEGERs and OID arcs, one-octet tags); openssl and pkijs also read BER',
  refusal: /not minimally encoded|indefinite length|superfluous leading zero|multi-byte form|a length of \d+ bytes is too large|a BOOLEAN is not one octet 0x00 or 0xff/,
};

const TRAILING_DATA: AllowedDivergence = {
  id: 'trailing-data',
  why: 'bytes after the outermost element (or extra elements at its end) are refused; openssl and pkijs read one element and ignore what follows',
  refusal: /trailing data|trailing fields|unexpected fields/,
};

export const CSR_DIVERGENCES: readonly AllowedDivergence[] = [
  DER_NOT_BER,
  TRAILING_DATA,
  {
    id: 'csr-algorithms',
    why: "Certflow's key and signature algorithms are a subset (ECDSA P-256/P-384, RSA 2048/3072/4096, Ed25519; SHA-256 or stronger; named curves, uncompressed points)",
    refusal: /unsupported type|is not supported|is not accepted|does not match its|compressed point|malformed .* (key|point)|must be (absent or )?NULL|invalid .* public key/,
  },
  {
    id: 'csr-names',
    why: 'names Certflow reads must be what RFC 5280 says they are: DirectoryString types it knows for the CN, IA5 (ASCII) dNSName and URI, 4- or 16-octet iPAddress',
    refusal: /unsupported string type|is not ASCII|iPAddress has \d+ octets/,
  },
  {
    id: 'csr-extension-request',
    why: "Certflow decodes the extensionRequest attribute and its subjectAltName (the names it would certify); `openssl req -verify` and pkijs's CertificationRequest keep attribute values opaque. Allowed only when pkijs, asked to decode the same Extensions and GeneralNames, also finds them malformed",
    refusal: /./,
    witness: (der) => pkijsExtensionRequestProblem(der) !== null,
  },
  MALFORMED_UNREAD_BY_ORACLES,
  INVALID_OID,
  NAME_VALUE_TYPES,
  {
    id: 'csr-extension-shape',
    why: 'an Extension is { extnID, critical BOOLEAN DEFAULT FALSE, extnValue } (RFC 5280 §4.1), checked even when Certflow skips it, and extensionRequest has one value (RFC 2985 §5.4.2); openssl keeps extensionRequest values opaque and pkijs ignores extra elements in a SEQUENCE',
    refusal: /critical has tag|an Extension has unexpected fields|extensionRequest has more than one value/,
  },
  {
    id: 'csr-version',
    why: 'version 0 is the only PKCS#10 version; openssl and pkijs read any INTEGER there',
    refusal: /only version 1/,
  },
];

export const OCSP_DIVERGENCES: readonly AllowedDivergence[] = [
  DER_NOT_BER,
  TRAILING_DATA,
  {
    id: 'ocsp-semantics',
    why: 'RFC 6960/8954 rules the parsers do not check: version 1 (0) only, a non-empty request list, one nonce of 1..32 octets, no unknown critical extension, hash lengths that match the CertID algorithm, non-negative serials',
    refusal: /unsupported OCSP request version|request list is empty|nonce|critical request extension|hashes must be|is negative|unexpected hash algorithm parameters|ediPartyName are not supported|requestorName (is not ASCII|iPAddress)/,
  },
  MALFORMED_UNREAD_BY_ORACLES,
  INVALID_OID,
  NAME_VALUE_TYPES,
];

/** Counts of outcomes per oracle: agreement, and each allowed divergence. */
export class DivergenceTally {
  private readonly counts = new Map<string, number>();
  private readonly examples = new Map<string, Set<string>>();

  /** Counts an outcome; `example` (a refusal message) is kept, a few per outcome, for the printout. */
  add(oracle: string, outcome: string, example?: string): void {
    const key = `${oracle}: ${outcome}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    if (example === undefined) return;
    const examples = this.examples.get(key) ?? new Set<string>();
    if (examples.size < 4) examples.add(example.replace(/^.*?: /, '').slice(0, 160));
    this.examples.set(key, examples);
  }

  /** The rule that allows Certflow to refuse with `message` what the oracle accepted, or null. */
  static allowed(rules: readonly AllowedDivergence[], message: string, der: Buffer): AllowedDivergence | null {
    return rules.find((rule) => rule.refusal.test(message) && (rule.witness?.(der) ?? true)) ?? null;
  }

  print(title: string): void {
    const lines = [...this.counts.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, count]) => `  ${key}: ${count}${[...(this.examples.get(key) ?? [])].map((example) => `\n      e.g. ${example}`).join('')}`);
    console.log(`[fuzz] ${title}\n${lines.join('\n')}`);
  }
}

export interface ReaderVerdict {
  accepted: boolean;
  /** "accepted", or the reader's refusal message. */
  detail: string;
}

/**
 * Compares a reader's verdict with the oracles'. The reader accepts only what every oracle accepts;
 * when every oracle accepts and the reader refuses, the refusal must be an allowed divergence; when
 * the oracles disagree, the reader must refuse (it then agrees with the one that refuses).
 */
export function compareWithOracles(
  context: { reader: string; rules: readonly AllowedDivergence[]; tally: DivergenceTally },
  label: string,
  der: Buffer,
  mine: ReaderVerdict,
  oracles: Record<string, { accepted: boolean; detail: string }>,
): void {
  const { reader, rules, tally } = context;
  const refusing = Object.entries(oracles).filter(([, verdict]) => !verdict.accepted);
  if (mine.accepted) {
    if (refusing.length > 0) {
      throw new Error(`${reader} accepted what ${refusing.map(([name, verdict]) => `${name} (${verdict.detail})`).join(' and ')} refuses (${label})\n${der.toString('hex')}`);
    }
    return tally.add('all oracles', 'all accept');
  }
  if (refusing.length === Object.keys(oracles).length) return tally.add('all oracles', 'all refuse');
  if (refusing.length > 0) return tally.add('oracles disagree', `${reader} refuses with ${refusing.map(([name]) => name).join(', ')}`, mine.detail);
  const rule = DivergenceTally.allowed(rules, mine.detail, der);
  if (!rule) throw new Error(`${reader} refused what every oracle accepts, for no allowed reason (${label}): ${mine.detail}\n${der.toString('hex')}`);
  tally.add('all oracles accept', `allowed divergence ${rule.id}`, mine.detail);
}

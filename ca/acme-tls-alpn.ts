/**
 * The tls-alpn-01 validation certificate (RFC 8737 §3): its subjectAltName holds exactly one entry,
 * the identifier being validated (a dNSName, or an iPAddress for RFC 8738 IP identifiers), and a
 * critical id-pe-acmeIdentifier extension holds SHA-256 of the key authorization. Nothing else of
 * the certificate matters: it is self-signed by the client's server and its signature is not read.
 */
import type { AcmeIdentifier } from '../core/acme-challenge-targets.js';
import { keyAuthorizationDigest } from '../core/acme-key-authorization.js';
import { canonicalizeIp, ipToOctets } from '../core/ip.js';
import { children, decodeOid, DerError, type DerElement, expectTag, parseDer, readOne } from './der-reader.js';
import { TAG } from './der-tags.js';

export const ACME_IDENTIFIER_OID = '1.3.6.1.5.5.7.1.31';
const SUBJECT_ALT_NAME_OID = '2.5.29.17';
/** [3] EXPLICIT extensions of a TBSCertificate; GeneralName [2] dNSName and [7] iPAddress. */
const EXTENSIONS_TAG = 0xa3;
const DNS_NAME_TAG = 0x82;
const IP_ADDRESS_TAG = 0x87;

export type TlsAlpnCertificateFailure =
  | 'malformed'
  | 'duplicate_extension'
  | 'no_subject_alt_name'
  | 'subject_alt_name_not_single'
  | 'subject_alt_name_mismatch'
  | 'no_acme_identifier'
  | 'acme_identifier_not_critical'
  | 'acme_identifier_malformed'
  | 'acme_identifier_mismatch';

export type TlsAlpnCertificateCheck = { ok: true } | { ok: false; reason: TlsAlpnCertificateFailure; detail: string };

interface Extension {
  critical: boolean;
  value: Buffer;
}

/** `identifier` in canonical form (core/acme-challenge-targets.ts challengeIdentifier). */
export function checkTlsAlpnCertificate(der: Uint8Array, identifier: AcmeIdentifier, keyAuthorization: string): TlsAlpnCertificateCheck {
  const fail = (reason: TlsAlpnCertificateFailure, detail: string): TlsAlpnCertificateCheck => ({ ok: false, reason, detail });
  let extensions: Map<string, Extension>;
  try {
    extensions = readExtensions(der);
  } catch (error) {
    if (error instanceof DuplicateExtension) return fail('duplicate_extension', error.message);
    return fail('malformed', `the certificate cannot be read: ${(error as Error).message}`);
  }

  const san = extensions.get(SUBJECT_ALT_NAME_OID);
  if (!san) return fail('no_subject_alt_name', 'the certificate has no subjectAltName extension');
  let names: DerElement[];
  try {
    names = children(readOne(san.value, TAG.sequence, 'GeneralNames'));
  } catch (error) {
    return fail('malformed', `the subjectAltName cannot be read: ${(error as Error).message}`);
  }
  if (names.length !== 1) return fail('subject_alt_name_not_single', `the subjectAltName must hold exactly one name, ${identifier.value}; it holds ${names.length}`);
  if (!namesIdentifier(names[0]!, identifier)) return fail('subject_alt_name_mismatch', `the subjectAltName does not name ${identifier.value}`);

  const acme = extensions.get(ACME_IDENTIFIER_OID);
  if (!acme) return fail('no_acme_identifier', 'the certificate has no acmeIdentifier extension (1.3.6.1.5.5.7.1.31)');
  if (!acme.critical) return fail('acme_identifier_not_critical', 'the acmeIdentifier extension must be critical');
  let digest: Buffer;
  try {
    digest = readOne(acme.value, TAG.octetString, 'acmeIdentifier').content;
  } catch (error) {
    return fail('acme_identifier_malformed', `the acmeIdentifier extension is not an OCTET STRING: ${(error as Error).message}`);
  }
  if (digest.length !== 32) return fail('acme_identifier_malformed', `the acmeIdentifier must hold 32 octets (SHA-256); it holds ${digest.length}`);
  if (!digest.equals(keyAuthorizationDigest(keyAuthorization))) return fail('acme_identifier_mismatch', 'the acmeIdentifier does not hold SHA-256 of the expected key authorization');
  return { ok: true };
}

class DuplicateExtension extends Error {}

/** The certificate's extensions by OID; RFC 5280 §4.2 allows each at most once. */
function readExtensions(der: Uint8Array): Map<string, Extension> {
  const [tbs] = children(expectTag(parseDer(der, 'the certificate'), TAG.sequence, 'Certificate'));
  const field = children(expectTag(tbs, TAG.sequence, 'TBSCertificate')).find((candidate) => candidate.tag === EXTENSIONS_TAG);
  const extensions = new Map<string, Extension>();
  if (!field) return extensions;
  const [list, extra] = children(field);
  if (extra) throw new DerError('the extensions field holds more than one element');
  for (const extension of children(expectTag(list, TAG.sequence, 'Extensions'))) {
    const parts = children(expectTag(extension, TAG.sequence, 'Extension'));
    if (parts.length < 2 || parts.length > 3) throw new DerError('an Extension has unexpected fields');
    const oid = decodeOid(parts[0], 'extnID');
    const critical = parts.length === 3 && expectTag(parts[1], TAG.boolean, 'critical').content.equals(Buffer.from([0xff]));
    const value = expectTag(parts[parts.length - 1], TAG.octetString, 'extnValue').content;
    if (extensions.has(oid)) throw new DuplicateExtension(`the certificate has the extension ${oid} twice`);
    extensions.set(oid, { critical, value });
  }
  return extensions;
}

function namesIdentifier(name: DerElement, identifier: AcmeIdentifier): boolean {
  if (identifier.type === 'dns') return name.tag === DNS_NAME_TAG && name.content.toString('latin1').toLowerCase() === identifier.value;
  return name.tag === IP_ADDRESS_TAG && name.content.equals(ipToOctets(canonicalizeIp(identifier.value)));
}

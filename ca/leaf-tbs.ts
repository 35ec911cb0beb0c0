/**
 * Per-certificate encoding of a leaf TBSCertificate (and of the signed certificate) into a single buffer
 * with der-writer.ts's DerWriter: lengths are computed first, then every byte is written once.
 * Concatenating pre-encoded elements costs about as much as the ECDSA signature itself (a dozen small
 * allocations per element); this does not.
 *
 * TBSCertificate ::= SEQUENCE { [0] version, serialNumber, signature, issuer, validity, subject,
 *                               subjectPublicKeyInfo, [3] SEQUENCE OF Extension }
 * The constant parts arrive pre-encoded; subjectAltName sits between the constant extensions.
 */
import { hash } from 'node:crypto';
import { ipToOctets } from '../core/ip.js';
import { children, readOne } from './der-reader.js';
import { TAG as UNIVERSAL } from './der-tags.js';
import { DerWriter, timeLength, tlvSize } from './der-writer.js';

/** The DER of everything in a leaf that does not change per certificate. */
export interface ConstantParts {
  /** [0] EXPLICIT INTEGER 2. */
  version: Uint8Array;
  /** signature AlgorithmIdentifier followed by the issuer Name. */
  signatureAndIssuer: Uint8Array;
  /** Encoded extensions before subjectAltName. */
  extensionsBeforeSan: Uint8Array;
  /** Encoded extensions after subjectAltName. */
  extensionsAfterSan: Uint8Array;
}

export interface VariableParts {
  serial: string;
  notBefore: Date;
  notAfter: Date;
  commonName: string | null;
  subjectPublicKeySpki: Uint8Array;
  dnsNames: readonly string[];
  ipAddresses: readonly string[];
  uris: readonly string[];
}

const TAG = {
  ...UNIVERSAL,
  extensions: 0xa3,
  dNSName: 0x82,
  uniformResourceIdentifier: 0x86,
  iPAddress: 0x87,
} as const;

/** 06 03 55 04 03: id-at-commonName. */
const COMMON_NAME_OID = Buffer.from([0x06, 0x03, 0x55, 0x04, 0x03]);
/** 06 03 55 1d 11: id-ce-subjectAltName. */
const SUBJECT_ALT_NAME_OID = Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x11]);
const CRITICAL = Buffer.from([0x01, 0x01, 0xff]);
/** Extension { id-ce-subjectKeyIdentifier (2.5.29.14), OCTET STRING { OCTET STRING (20) } }, up to the key id. */
const SUBJECT_KEY_IDENTIFIER_PREFIX = Buffer.from([0x30, 0x1d, 0x06, 0x03, 0x55, 0x1d, 0x0e, 0x04, 0x16, 0x04, 0x14]);
const SUBJECT_KEY_IDENTIFIER_SIZE = SUBJECT_KEY_IDENTIFIER_PREFIX.length + 20;
const EMPTY_NAME = Buffer.from([TAG.sequence, 0x00]);
const UNUSED_BITS_NONE = Buffer.from([0x00]);
/** The PrintableString alphabet (X.680 §41.4); a CN with anything else is written as UTF8String. */
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;
const HEX = /^[0-9a-fA-F]+$/;

export function encodeLeafTbs(constant: ConstantParts, leaf: VariableParts): Buffer {
  const serial = serialDigits(leaf.serial);
  const validityContent = tlvSize(timeLength(leaf.notBefore)) + tlvSize(timeLength(leaf.notAfter));

  const cn = leaf.commonName;
  const cnIsPrintable = cn === null || PRINTABLE.test(cn);
  const cnBytes = cn === null || cnIsPrintable ? null : Buffer.from(cn, 'utf8');
  const cnLength = cn === null ? 0 : cnBytes ? cnBytes.length : cn.length;
  const attributeContent = COMMON_NAME_OID.length + tlvSize(cnLength);
  const subjectSize = cn === null ? EMPTY_NAME.length : tlvSize(tlvSize(tlvSize(attributeContent)));

  const ipOctets = leaf.ipAddresses.map(ipToOctets);
  let generalNamesContent = 0;
  for (const name of leaf.dnsNames) generalNamesContent += tlvSize(name.length);
  for (const octets of ipOctets) generalNamesContent += tlvSize(octets.length);
  for (const uri of leaf.uris) generalNamesContent += tlvSize(uri.length);
  const sanCritical = cn === null;
  const sanValue = tlvSize(generalNamesContent);
  const sanContent = SUBJECT_ALT_NAME_OID.length + (sanCritical ? CRITICAL.length : 0) + tlvSize(sanValue);
  const extensionsContent = constant.extensionsBeforeSan.length + tlvSize(sanContent) + SUBJECT_KEY_IDENTIFIER_SIZE + constant.extensionsAfterSan.length;

  const tbsContent =
    constant.version.length +
    tlvSize(serial.octets) +
    constant.signatureAndIssuer.length +
    tlvSize(validityContent) +
    subjectSize +
    leaf.subjectPublicKeySpki.length +
    tlvSize(tlvSize(extensionsContent));

  const out = new DerWriter(tlvSize(tbsContent));
  out.header(TAG.sequence, tbsContent);
  out.bytes(constant.version);
  out.header(TAG.integer, serial.octets);
  out.hex(serial.digits, serial.octets);
  out.bytes(constant.signatureAndIssuer);
  out.header(TAG.sequence, validityContent);
  out.time(leaf.notBefore);
  out.time(leaf.notAfter);
  if (cn === null) {
    out.bytes(EMPTY_NAME);
  } else {
    out.header(TAG.sequence, tlvSize(tlvSize(attributeContent)));
    out.header(TAG.set, tlvSize(attributeContent));
    out.header(TAG.sequence, attributeContent);
    out.bytes(COMMON_NAME_OID);
    if (cnBytes) {
      out.header(TAG.utf8String, cnLength);
      out.bytes(cnBytes);
    } else {
      out.header(TAG.printableString, cnLength);
      out.latin1(cn);
    }
  }
  out.bytes(leaf.subjectPublicKeySpki);
  out.header(TAG.extensions, tlvSize(extensionsContent));
  out.header(TAG.sequence, extensionsContent);
  out.bytes(constant.extensionsBeforeSan);
  out.header(TAG.sequence, sanContent);
  out.bytes(SUBJECT_ALT_NAME_OID);
  if (sanCritical) out.bytes(CRITICAL);
  out.header(TAG.octetString, sanValue);
  out.header(TAG.sequence, generalNamesContent);
  for (const name of leaf.dnsNames) writeAscii(out, TAG.dNSName, name);
  for (const octets of ipOctets) {
    out.header(TAG.iPAddress, octets.length);
    out.bytes(octets);
  }
  for (const uri of leaf.uris) writeAscii(out, TAG.uniformResourceIdentifier, uri);
  out.bytes(SUBJECT_KEY_IDENTIFIER_PREFIX);
  out.bytes(subjectKeyIdentifier(leaf.subjectPublicKeySpki));
  out.bytes(constant.extensionsAfterSan);
  return out.done();
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING's bits (the SPKI was checked upstream). */
function subjectKeyIdentifier(spki: Uint8Array): Buffer {
  const [, subjectPublicKey] = children(readOne(spki, TAG.sequence, 'SubjectPublicKeyInfo'));
  return hash('sha1', subjectPublicKey!.content.subarray(1), 'buffer');
}

/** Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING (no unused bits) } */
export function encodeCertificate(tbs: Uint8Array, signatureAlgorithm: Uint8Array, signature: Uint8Array): Buffer {
  const bitStringContent = 1 + signature.length;
  const content = tbs.length + signatureAlgorithm.length + tlvSize(bitStringContent);
  const out = new DerWriter(tlvSize(content));
  out.header(TAG.sequence, content);
  out.bytes(tbs);
  out.bytes(signatureAlgorithm);
  out.header(TAG.bitString, bitStringContent);
  out.bytes(UNUSED_BITS_NONE);
  out.bytes(signature);
  return out.done();
}

/** IA5String content: refuses anything outside ASCII rather than writing something else than asked. */
function writeAscii(out: DerWriter, tag: number, text: string): void {
  if (!/^[\x00-\x7f]*$/.test(text)) throw new Error(`"${text}" is not ASCII and cannot be an IA5String`);
  out.header(tag, text.length);
  out.latin1(text);
}

/**
 * The digits of a hex serial as positive INTEGER content: leading zeros dropped; one octet more
 * (0x00, written by `hex` as left padding) when the top bit of the first octet is set.
 */
function serialDigits(hex: string): { digits: string; octets: number } {
  if (!HEX.test(hex)) throw new Error(`serial "${hex}" is not hexadecimal`);
  let start = 0;
  while (start < hex.length && hex.charCodeAt(start) === 0x30) start++;
  if (start === hex.length) throw new Error('serial is zero; serial numbers are positive');
  const digits = start === 0 ? hex : hex.slice(start);
  const topBitSet = digits.length % 2 === 0 && parseInt(digits[0]!, 16) >= 8;
  return { digits, octets: Math.ceil(digits.length / 2) + (topBitSet ? 1 : 0) };
}

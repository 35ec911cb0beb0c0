/**
 * X.501 Names read strictly (RFC 5280 §4.1.2.4): a Name is a SEQUENCE OF RelativeDistinguishedName
 * (SET OF AttributeTypeAndValue), and every value is a well-formed string of a type a Name may hold.
 * What Certflow reads from a name (a CSR's CN) and what it only passes over (an OCSP requestorName)
 * are checked alike, so it never accepts a name that openssl and RFC 5280 refuse.
 */
import { checkOid, children, DerError, type DerElement, expectTag } from './der-reader.js';

/** Checks the whole Name; calls `visit` with each attribute's type element, value element and text. */
export function readName(name: DerElement | undefined, what: string, visit: (type: DerElement, value: DerElement, text: string) => void = () => undefined): void {
  for (const rdn of children(expectTag(name, 0x30, what))) {
    for (const attribute of children(expectTag(rdn, 0x31, 'RelativeDistinguishedName'))) {
      const [type, value, extra] = children(expectTag(attribute, 0x30, 'AttributeTypeAndValue'));
      if (extra) throw new DerError('AttributeTypeAndValue has trailing fields');
      checkOid(type, 'an attribute type');
      const text = attributeValueText(value);
      visit(type!, value!, text);
    }
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

function invalid(type: string): DerError {
  return new DerError(`a name attribute is not a valid ${type}`);
}
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

/**
 * The text of a subject attribute value, refusing what is not a well-formed string of a type a
 * Name may hold (openssl's X509_NAME accepts these and refuses the others).
 */
export function attributeValueText(value: DerElement | undefined): string {
  if (!value) throw new DerError('attribute value is missing');
  const bytes = value.content;
  switch (value.tag) {
    case 0x0c: // UTF8String
      try {
        return UTF8.decode(bytes);
      } catch {
        throw invalid('UTF8String (it is not UTF-8)');
      }
    case 0x12: // NumericString
      if (!/^[0-9 ]*$/.test(bytes.toString('latin1'))) throw invalid('NumericString');
      return bytes.toString('latin1');
    case 0x13: // PrintableString
      if (!PRINTABLE.test(bytes.toString('latin1'))) throw invalid('PrintableString');
      return bytes.toString('latin1');
    case 0x16: // IA5String
      if (bytes.some((byte) => byte > 0x7f)) throw invalid('IA5String (it is not ASCII)');
      return bytes.toString('latin1');
    case 0x14: // TeletexString, in practice Latin-1
      return bytes.toString('latin1');
    case 0x1c: // UniversalString, UTF-32BE
      if (bytes.length % 4 !== 0) throw invalid('UniversalString (its length is not a multiple of 4)');
      return '';
    case 0x1e: // BMPString, UTF-16BE
      if (bytes.length % 2 !== 0) throw invalid('BMPString (its length is odd)');
      return Buffer.from(bytes).swap16().toString('utf16le');
    default:
      throw new DerError(`unsupported string type 0x${value.tag.toString(16)} in a name`);
  }
}


/** The facts about a certificate that CRLs and OCSP responses need, sliced from its DER verbatim. */
import { TAG } from './der-tags.js';
import { children, decodeOid, expectTag, integerHex, octetAlignedBits, parseDer } from './der-reader.js';
import { pemToDer } from './pem.js';

export interface CertificateFacts {
  der: Buffer;
  /** Canonical serial (see `canonicalSerial`, ca/serial.ts). */
  serial: string;
  /** The subject Name, exactly as encoded in the certificate. */
  subjectDer: Buffer;
  /** The SubjectPublicKeyInfo, exactly as encoded. */
  spkiDer: Buffer;
  /** The subjectPublicKey BIT STRING contents without the unused-bits octet (what OCSP key hashes cover). */
  publicKeyBits: Buffer;
  /** keyIdentifier of the subjectKeyIdentifier extension, if present. */
  subjectKeyIdentifier: Buffer | null;
}

const SKI_OID = '2.5.29.14';
/** [0] EXPLICIT version and [3] EXPLICIT extensions of a TBSCertificate. */
const VERSION_TAG = 0xa0;
const EXTENSIONS_TAG = 0xa3;

export function certificateFacts(certificate: Uint8Array | string): CertificateFacts {
  const der = typeof certificate === 'string' ? pemToDer(certificate) : Buffer.from(certificate);
  const cert = parseDer(der);
  const [tbs] = children(expectTag(cert, TAG.sequence, 'Certificate'));
  const fields = children(expectTag(tbs, TAG.sequence, 'TBSCertificate'));
  let index = 0;
  if (fields[index]?.tag === VERSION_TAG) index++;
  const serial = integerHex(fields[index++], 'serialNumber');
  index++; // signature
  index++; // issuer
  index++; // validity
  const subject = expectTag(fields[index++], TAG.sequence, 'subject');
  const spki = expectTag(fields[index++], TAG.sequence, 'subjectPublicKeyInfo');
  const [, bitString] = children(spki);
  const publicKeyBits = octetAlignedBits(bitString, 'subjectPublicKey');
  let subjectKeyIdentifier: Buffer | null = null;
  for (const field of fields.slice(index)) {
    if (field.tag !== EXTENSIONS_TAG) continue;
    const [extensions] = children(field);
    for (const extension of children(expectTag(extensions, TAG.sequence, 'Extensions'))) {
      const parts = children(extension);
      if (decodeOid(parts[0], 'extnID') !== SKI_OID) continue;
      const value = expectTag(parts[parts.length - 1], TAG.octetString, 'extnValue');
      subjectKeyIdentifier = Buffer.from(expectTag(parseDer(value.content), TAG.octetString, 'keyIdentifier').content);
    }
  }
  return {
    der,
    serial,
    subjectDer: Buffer.from(subject.raw),
    spkiDer: Buffer.from(spki.raw),
    publicKeyBits: Buffer.from(publicKeyBits),
    subjectKeyIdentifier,
  };
}

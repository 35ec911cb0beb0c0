/**
 * A small, strict DER reader (X.690) for what the CRL and OCSP code must read: OCSP requests from
 * untrusted clients, and a few fields of issuer certificates (subject Name bytes verbatim, public
 * key bits, subject key identifier, serial). It only slices: every element keeps its original bytes.
 * Anything that is not well-formed DER (indefinite lengths, non-minimal lengths, trailing bytes,
 * truncation, tags above 30) throws `DerError`.
 */

export class DerError extends Error {
  override name = 'DerError';
}

export interface DerElement {
  /** The identifier octet (class, constructed bit and tag number < 31). */
  tag: number;
  /** The whole TLV. */
  raw: Buffer;
  /** The contents octets. */
  content: Buffer;
}

/** Nesting deeper than this is refused (our structures are shallow; untrusted input is not). */
const MAX_DEPTH = 32;

/** Reads one element at `offset`; returns it and the offset just after it. */
export function readElement(buffer: Buffer, offset = 0): { element: DerElement; next: number } {
  if (offset >= buffer.length) throw new DerError('unexpected end of data');
  const tag = buffer[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('high tag numbers are not supported');
  let position = offset + 1;
  if (position >= buffer.length) throw new DerError('truncated length');
  const first = buffer[position++]!;
  let length: number;
  if (first < 0x80) {
    length = first;
  } else {
    const count = first & 0x7f;
    if (count === 0) throw new DerError('indefinite lengths are not DER');
    if (count > 4) throw new DerError('length too large');
    if (position + count > buffer.length) throw new DerError('truncated length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buffer[position++]!;
    if (length < 0x80 || buffer[position - count] === 0) throw new DerError('non-minimal length encoding');
  }
  const end = position + length;
  if (end > buffer.length) throw new DerError('truncated contents');
  return { element: { tag, raw: buffer.subarray(offset, end), content: buffer.subarray(position, end) }, next: end };
}

/** Parses a buffer that must hold exactly one element. */
export function parseDer(buffer: Uint8Array): DerElement {
  const data = Buffer.isBuffer(buffer) ? buffer : Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const { element, next } = readElement(data, 0);
  if (next !== data.length) throw new DerError('trailing data after the DER element');
  return element;
}

/** The children of a constructed element. */
export function children(element: DerElement, depth = 0): DerElement[] {
  if (depth > MAX_DEPTH) throw new DerError('nesting too deep');
  if ((element.tag & 0x20) === 0) throw new DerError(`element with tag 0x${element.tag.toString(16)} is not constructed`);
  const result: DerElement[] = [];
  let offset = 0;
  while (offset < element.content.length) {
    const { element: child, next } = readElement(element.content, offset);
    result.push(child);
    offset = next;
  }
  return result;
}

export function expectTag(element: DerElement | undefined, tag: number, what: string): DerElement {
  if (!element) throw new DerError(`${what} is missing`);
  if (element.tag !== tag) throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, found 0x${element.tag.toString(16)}`);
  return element;
}

/** Decodes an OBJECT IDENTIFIER's contents to dotted form. */
export function decodeOid(element: DerElement): string {
  if (element.tag !== 0x06) throw new DerError('expected an OBJECT IDENTIFIER');
  const bytes = element.content;
  if (bytes.length === 0) throw new DerError('empty OBJECT IDENTIFIER');
  const arcs: bigint[] = [];
  let value = 0n;
  let started = false;
  for (const byte of bytes) {
    if (!started && byte === 0x80) throw new DerError('non-minimal OBJECT IDENTIFIER arc');
    started = true;
    value = (value << 7n) | BigInt(byte & 0x7f);
    if ((byte & 0x80) === 0) {
      arcs.push(value);
      value = 0n;
      started = false;
    }
  }
  if (started) throw new DerError('truncated OBJECT IDENTIFIER');
  const first = arcs[0]!;
  const head = first < 40n ? [0n, first] : first < 80n ? [1n, first - 40n] : [2n, first - 80n];
  return [...head, ...arcs.slice(1)].join('.');
}

/**
 * A positive INTEGER's magnitude as lowercase hex without leading zero octets — the canonical form
 * of serial numbers in Certflow (certificate_versions.serial). Negative or empty integers throw.
 */
export function integerHex(element: DerElement): string {
  if (element.tag !== 0x02) throw new DerError('expected an INTEGER');
  const bytes = element.content;
  if (bytes.length === 0) throw new DerError('empty INTEGER');
  if (bytes[0]! & 0x80) throw new DerError('negative INTEGER');
  if (bytes.length > 1 && bytes[0] === 0 && (bytes[1]! & 0x80) === 0) throw new DerError('non-minimal INTEGER');
  return canonicalSerial(bytes.toString('hex'));
}

/** Lowercase hex without leading zero octets ("0" stays "00"). */
export function canonicalSerial(hex: string): string {
  let value = hex.toLowerCase();
  if (!/^[0-9a-f]*$/.test(value) || value.length === 0) throw new DerError(`"${hex}" is not a hexadecimal serial`);
  if (value.length % 2 === 1) value = `0${value}`;
  while (value.length > 2 && value.startsWith('00')) value = value.slice(2);
  return value;
}

/** Big-endian bytes of a canonical hex serial, as INTEGER contents before minimal encoding. */
export function serialBytes(hex: string): Buffer {
  return Buffer.from(canonicalSerial(hex), 'hex');
}

/** The facts about a certificate that CRLs and OCSP responses need, sliced from its DER verbatim. */
export interface CertificateFacts {
  der: Buffer;
  /** Canonical serial (see `canonicalSerial`). */
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

export function certificateFacts(certificate: Uint8Array | string): CertificateFacts {
  const der = typeof certificate === 'string' ? pemToDer(certificate) : Buffer.from(certificate);
  const cert = parseDer(der);
  const [tbs] = children(expectTag(cert, 0x30, 'Certificate'));
  const fields = children(expectTag(tbs, 0x30, 'TBSCertificate'));
  let index = 0;
  if (fields[index]?.tag === 0xa0) index++; // [0] EXPLICIT version
  const serial = integerHex(expectTag(fields[index++], 0x02, 'serialNumber'));
  index++; // signature
  index++; // issuer
  index++; // validity
  const subject = expectTag(fields[index++], 0x30, 'subject');
  const spki = expectTag(fields[index++], 0x30, 'subjectPublicKeyInfo');
  const [, bitString] = children(spki);
  const bits = expectTag(bitString, 0x03, 'subjectPublicKey');
  if (bits.content.length < 1 || bits.content[0] !== 0) throw new DerError('subjectPublicKey must have no unused bits');
  let subjectKeyIdentifier: Buffer | null = null;
  for (const field of fields.slice(index)) {
    if (field.tag !== 0xa3) continue;
    const [extensions] = children(field);
    for (const extension of children(expectTag(extensions, 0x30, 'Extensions'))) {
      const parts = children(extension);
      if (decodeOid(expectTag(parts[0], 0x06, 'extnID')) !== SKI_OID) continue;
      const value = expectTag(parts[parts.length - 1], 0x04, 'extnValue');
      subjectKeyIdentifier = Buffer.from(expectTag(parseDer(value.content), 0x04, 'keyIdentifier').content);
    }
  }
  return {
    der,
    serial,
    subjectDer: Buffer.from(subject.raw),
    spkiDer: Buffer.from(spki.raw),
    publicKeyBits: Buffer.from(bits.content.subarray(1)),
    subjectKeyIdentifier,
  };
}

export function pemToDer(pem: string, label = 'CERTIFICATE'): Buffer {
  const match = new RegExp(`-----BEGIN ${label}-----([^-]+)-----END ${label}-----`).exec(pem);
  if (!match) throw new DerError(`no ${label} PEM block found`);
  return Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64');
}

export function derToPem(der: Uint8Array, label: string): string {
  const base64 = Buffer.from(der).toString('base64');
  return `-----BEGIN ${label}-----\n${base64.match(/.{1,64}/g)!.join('\n')}\n-----END ${label}-----\n`;
}

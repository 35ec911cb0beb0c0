/** Hand-built CSRs (PKCS#10) signed with a fixed P-256 key, for tests that need a CSR with a chosen flaw. */
import { generateKeyPairSync, sign } from 'node:crypto';
import { bitString, oid, sequence, set, smallInteger, tlv } from '../../ca/der-writer.js';

const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
export const SPKI = publicKey.export({ type: 'spki', format: 'der' });

export const ECDSA_SHA256 = sequence(oid('1.2.840.10045.4.3.2'));
export const SUBJECT_OIDS = { commonName: '2.5.4.3', organization: '2.5.4.10', serialNumber: '2.5.4.5', email: '1.2.840.113549.1.9.1' };

/** A CSR with these subject attributes ([dotted OID or an OID TLV, value TLV]), signature algorithm, request attributes and SPKI, signed properly. */
export function buildCsr(attributes: [string | Buffer, Buffer][], algorithm = ECDSA_SHA256, requestAttributes: Buffer[] = [], spki: Buffer = SPKI): Buffer {
  const subject = sequence(...attributes.map(([type, value]) => set(sequence(typeof type === 'string' ? oid(type) : type, value))));
  const info = sequence(smallInteger(0), subject, spki, tlv(0xa0, ...requestAttributes));
  return sequence(info, algorithm, bitString(sign('sha256', info, privateKey)));
}

export const commonNameAttribute = (name: string): [string, Buffer] => [SUBJECT_OIDS.commonName, tlv(0x0c, Buffer.from(name))];

export function csrPem(der: Buffer): string {
  return `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE REQUEST-----\n`;
}

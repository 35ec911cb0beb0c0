/**
 * Regressions found by the DER fuzz tests (test/fuzz/): inputs that readCsr or parseOcspRequest
 * handled differently from openssl and pkijs. Each `fail/` case was accepted (or crashed with a
 * DerError instead of the reader's typed error) before its fix; the `ok/` cases keep the fixes from
 * refusing what is valid.
 */
import { describe, expect, it } from 'vitest';
import { CsrError, readCsr } from '../../../ca/csr.js';
import { bitString, contextExplicit, contextPrimitive, nullValue, octetString, oid, sequence, set, smallInteger, tlv } from '../../../ca/der-writer.js';
import { buildCsr, commonNameAttribute, ECDSA_SHA256, SPKI, SUBJECT_OIDS } from '../../support/csr-builder.js';
import { OCSP_OIDS, OcspRequestError, parseOcspRequest } from '../../../ca/ocsp.js';

const OIDS = SUBJECT_OIDS;

/** The extensionRequest attribute holding these Extension elements. */
const extensionRequest = (...extensions: Buffer[]): Buffer => sequence(oid('1.2.840.113549.1.9.14'), set(sequence(...extensions)));

/** The builder's P-256 SPKI with its AlgorithmIdentifier { ecPublicKey, P-256, P-256 }. */
function spkiWithCurveTwice(): Buffer {
  const point = SPKI.subarray(SPKI.length - 65);
  return sequence(sequence(oid('1.2.840.10045.2.1'), oid('1.2.840.10045.3.1.7'), oid('1.2.840.10045.3.1.7')), bitString(point));
}
const csr = buildCsr;
const CN = commonNameAttribute;

describe('readCsr: fuzz regressions', () => {
  it.each<[string, Buffer]>([
    ['ok/UTF8String, PrintableString and IA5String values', csr([[OIDS.organization, tlv(0x0c, Buffer.from('Bücher GmbH'))], [OIDS.serialNumber, tlv(0x13, Buffer.from('A-1234'))], [OIDS.email, tlv(0x16, Buffer.from('ops@example.com'))], CN('svc.example.com')])],
    ['ok/a challengePassword request attribute', csr([CN('svc.example.com')], ECDSA_SHA256, [sequence(oid('1.2.840.113549.1.9.7'), set(tlv(0x0c, Buffer.from('secret'))))])],
    ['ok/a critical keyUsage extension beside the SAN', csr([CN('svc.example.com')], ECDSA_SHA256, [extensionRequest(sequence(oid('2.5.29.15'), tlv(0x01, Buffer.from([0xff])), octetString(Buffer.from([0x03, 0x02, 0x07, 0x80]))), sequence(oid('2.5.29.17'), octetString(sequence(tlv(0x82, Buffer.from('svc.example.com'))))))])],
    ['ok/TeletexString, BMPString, NumericString, UniversalString values', csr([[OIDS.organization, tlv(0x14, Buffer.from([0xe9]))], [OIDS.organization, tlv(0x1e, Buffer.from([0, 0x41]))], [OIDS.serialNumber, tlv(0x12, Buffer.from('12 34'))], [OIDS.organization, tlv(0x1c, Buffer.from([0, 0, 0, 0x41]))], CN('svc.example.com')])],
  ])('%s', (_name, der) => {
    expect(readCsr(der).commonName).toBe('svc.example.com');
  });

  it.each<[string, Buffer, RegExp]>([
    // Before: a DerError escaped readCsr (the API answered 500 to such a csr).
    ['fail/unknown signature algorithm OID that ends in the middle of an arc', csr([CN('svc.example.com')], sequence(tlv(0x06, Buffer.from([0x2a, 0x86])))), /ends in the middle of an arc/],
    // Before: accepted (only the CN's value was read; openssl refuses both).
    ['fail/a UTF8String that is not UTF-8 in another attribute', csr([[OIDS.organization, tlv(0x0c, Buffer.from([0xf6, 0xeb, 0xc4]))], CN('svc.example.com')]), /not a valid UTF8String/],
    ['fail/an INTEGER as an attribute value', csr([[OIDS.organization, smallInteger(5)], CN('svc.example.com')]), /unsupported string type 0x2/],
    ['fail/a PrintableString with a character PrintableString lacks', csr([[OIDS.serialNumber, tlv(0x13, Buffer.from('a@b'))], CN('svc.example.com')]), /not a valid PrintableString/],
    ['fail/a BMPString of odd length', csr([[OIDS.organization, tlv(0x1e, Buffer.from([0, 0x41, 0]))], CN('svc.example.com')]), /not a valid BMPString/],
    ['fail/a request attribute whose values are not a SET', csr([CN('svc.example.com')], ECDSA_SHA256, [sequence(oid('1.2.840.113549.1.9.7'), sequence(tlv(0x0c, Buffer.from('secret'))))]), /attribute values has tag 0x30/],
    ['fail/a request attribute holding a malformed NULL', csr([CN('svc.example.com')], ECDSA_SHA256, [sequence(oid('1.2.840.113549.1.9.7'), set(tlv(0x05, Buffer.from([1]))))]), /a NULL has content/],
    ['fail/a signatureAlgorithm with three elements', csr([CN('svc.example.com')], sequence(oid('1.2.840.10045.4.3.2'), oid('1.2.840.10045.4.3.2'), nullValue())), /signatureAlgorithm has trailing fields/],
    ['fail/signatureAlgorithm parameters that are a malformed NULL', csr([CN('svc.example.com')], sequence(oid('1.2.840.10045.4.3.2'), tlv(0x05, Buffer.from([0])))), /a NULL has content/],
    ['fail/signatureAlgorithm parameters that are an empty GeneralizedTime', csr([CN('svc.example.com')], sequence(oid('1.2.840.10045.4.3.2'), tlv(0x18))), /must be absent or NULL/],
    ['fail/a subject attribute type OID that ends in the middle of an arc', csr([[tlv(0x06, Buffer.from([0x55, 0x04, 0x83])), tlv(0x0c, Buffer.from('x'))], CN('svc.example.com')]), /ends in the middle of an arc/],
    ['fail/an SPKI algorithm with the curve OID twice', csr([CN('svc.example.com')], ECDSA_SHA256, [], spkiWithCurveTwice()), /SubjectPublicKeyInfo algorithm has trailing fields/],
    ['fail/an extension (not the SAN) whose extnID ends in the middle of an arc', csr([CN('svc.example.com')], ECDSA_SHA256, [extensionRequest(sequence(tlv(0x06, Buffer.from([0x55, 0x1d, 0x8f])), octetString(Buffer.from([0x30, 0x00]))))]), /extnID ends in the middle of an arc/],
    ['fail/an extension with two extnIDs', csr([CN('svc.example.com')], ECDSA_SHA256, [extensionRequest(sequence(oid('2.5.29.15'), oid('2.5.29.15'), octetString(Buffer.from([0x03, 0x02, 0x07, 0x80]))))]), /critical has tag 0x6/],
    ['fail/an extensionRequest with a second, malformed value', csr([CN('svc.example.com')], ECDSA_SHA256, [sequence(oid('1.2.840.113549.1.9.14'), set(sequence(sequence(oid('2.5.29.15'), octetString(Buffer.from([0x03, 0x02, 0x07, 0x80])))), Buffer.from([0x30, 0x03, 0x04, 0x09, 0x00])))]), /more than one value/],
    ['fail/a NumericString CN (refused before too: a name is never read from one)', csr([[OIDS.commonName, tlv(0x12, Buffer.from('1234'))]]), /unsupported string type 0x12/],
  ])('%s', (_name, der, reason) => {
    expect(() => readCsr(der)).toThrow(CsrError);
    expect(() => readCsr(der)).toThrow(reason);
  });
});

describe('parseOcspRequest: fuzz regressions', () => {
  const certId = sequence(sequence(oid(OCSP_OIDS.sha1), nullValue()), octetString(Buffer.alloc(20)), octetString(Buffer.alloc(20)), smallInteger(5));
  const requestList = sequence(sequence(certId));
  const signature = (...extra: Buffer[]) => sequence(ECDSA_SHA256, bitString(Buffer.alloc(8, 1)), ...extra);
  const request = (tbs: Buffer[], optionalSignature?: Buffer) => sequence(sequence(...tbs), ...(optionalSignature ? [contextExplicit(0, optionalSignature)] : []));
  /** A child that claims 40 octets more than its parent holds. */
  const overflowing = Buffer.concat([Buffer.from([0x30, 0x04, 0x04, 0x2a]), Buffer.alloc(2)]);

  it.each<[string, Buffer]>([
    ['ok/signed request without certs', request([requestList], signature())],
    ['ok/requestorName directoryName', request([contextExplicit(1, contextExplicit(4, sequence(set(sequence(oid('2.5.4.3'), tlv(0x0c, Buffer.from('client'))))))), requestList])],
    ['ok/requestorName otherName', request([contextExplicit(1, contextExplicit(0, oid('1.3.6.1.4.1.311.20.2.3'), contextExplicit(0, tlv(0x0c, Buffer.from('client@example.com'))))), requestList])],
    ['ok/requestorName dNSName', request([contextExplicit(1, contextPrimitive(2, Buffer.from('client.example.com'))), requestList])],
    ['ok/single request extensions', request([sequence(sequence(certId, contextExplicit(0, sequence(sequence(oid('1.2.3.4'), octetString(Buffer.from('x')))))))])],
  ])('%s', (_name, der) => {
    expect(parseOcspRequest(der).certIds[0]!.serial).toBe('05');
  });

  // Before: all accepted (the parts were skipped unread); openssl and pkijs refuse each.
  it.each<[string, Buffer]>([
    ['fail/optionalSignature holding a malformed element', request([requestList], signature(contextExplicit(0, overflowing)))],
    ['fail/optionalSignature certs holding something that is not a Certificate', request([requestList], signature(contextExplicit(0, sequence(set(sequence())))))],
    ['fail/requestorName directoryName whose RDN holds a SET instead of an AttributeTypeAndValue', request([contextExplicit(1, contextExplicit(4, sequence(set(set(oid('2.5.4.3'), tlv(0x0c, Buffer.from('x'))))))), requestList])],
    ['fail/requestorName directoryName with an INTEGER value', request([contextExplicit(1, contextExplicit(4, sequence(set(sequence(oid('2.5.4.3'), smallInteger(1)))))), requestList])],
    ['fail/requestorName otherName holding a dNSName instead of { type-id, [0] value }', request([contextExplicit(1, contextExplicit(0, contextPrimitive(2, Buffer.from('client.example.com')))), requestList])],
    ['fail/requestorName that is not a GeneralName', request([contextExplicit(1, sequence(smallInteger(1))), requestList])],
    ['fail/version [0] holding two INTEGERs', request([contextExplicit(0, smallInteger(0), smallInteger(0)), requestList])],
    ['fail/single request extensions that are not Extensions', request([sequence(sequence(certId, contextExplicit(0, smallInteger(1))))])],
    ['fail/hash algorithm parameters: a NULL with content', request([sequence(sequence(sequence(sequence(oid(OCSP_OIDS.sha1), tlv(0x05, Buffer.from([1]))), octetString(Buffer.alloc(20)), octetString(Buffer.alloc(20)), smallInteger(5))))])],
    ['fail/critical BOOLEAN of two octets', request([requestList, contextExplicit(2, sequence(sequence(oid('1.2.3.4'), tlv(0x01, Buffer.from([0x00, 0x00])), octetString(Buffer.from('x')))))])],
  ])('%s', (_name, der) => {
    expect(() => parseOcspRequest(der)).toThrow(OcspRequestError);
  });
});

/**
 * Parsing a client CSR: PEM → verified public key and the names it asks for. Only the key and the
 * names are taken from a CSR; its requested extensions are never copied into a certificate.
 */
import type { KeyAlgorithm } from '../core/types.js';
import { x509 } from './x509.js';
import { keyAlgorithmOf } from './keys.js';

export interface ParsedCsr {
  publicKey: CryptoKey;
  keyAlgorithm: KeyAlgorithm;
  commonName: string | null;
  dnsNames: string[];
  ipAddresses: string[];
  uris: string[];
}

export class CsrError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CsrError';
  }
}

const WEAK_HASHES = new Set(['SHA-1', 'MD5']);
/** Signature algorithms with weak hashes that @peculiar/x509 reports only by OID. */
const WEAK_SIGNATURE_OIDS = new Map([
  ['1.2.840.113549.1.1.2', 'MD2'],
  ['1.2.840.113549.1.1.4', 'MD5'],
  ['1.2.840.113549.1.1.5', 'SHA-1'],
  ['1.2.840.10045.4.1', 'SHA-1'],
  ['1.2.840.10040.4.3', 'SHA-1'],
]);

export async function parseCsr(pem: string): Promise<ParsedCsr> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(pem.trim());
  } catch {
    throw new CsrError('the csr is not a PEM-encoded PKCS#10 certificate request ("-----BEGIN CERTIFICATE REQUEST-----")');
  }
  const algorithm = csr.signatureAlgorithm as { name?: string; hash?: { name?: string } };
  const hash = algorithm.hash?.name ?? WEAK_SIGNATURE_OIDS.get(algorithm.name ?? '');
  if (hash && WEAK_HASHES.has(hash.toUpperCase())) {
    throw new CsrError(`the csr is signed with ${hash}, which is not accepted; sign it with SHA-256 or stronger`);
  }
  let publicKey: CryptoKey;
  try {
    publicKey = await csr.publicKey.export();
  } catch {
    throw new CsrError('the csr carries a public key of an unsupported type; use ECDSA P-256/P-384, RSA 2048–4096 or Ed25519');
  }
  const keyAlgorithm = keyAlgorithmOf(publicKey);
  if (!keyAlgorithm) {
    throw new CsrError('the csr carries a public key of an unsupported type or size; use ECDSA P-256/P-384, RSA 2048/3072/4096 or Ed25519');
  }
  if (!(await csr.verify().catch(() => false))) {
    throw new CsrError('the csr signature does not verify against its own public key');
  }

  const san = csr.extensions.find((ext): ext is x509.SubjectAlternativeNameExtension => ext instanceof x509.SubjectAlternativeNameExtension);
  const names = san?.names.toJSON() ?? [];
  const commonName = csr.subjectName.getField('CN')[0] ?? null;
  return {
    publicKey,
    keyAlgorithm,
    commonName,
    dnsNames: names.filter((n) => n.type === 'dns').map((n) => n.value),
    ipAddresses: names.filter((n) => n.type === 'ip').map((n) => n.value),
    uris: names.filter((n) => n.type === 'url').map((n) => n.value),
  };
}

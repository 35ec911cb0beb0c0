/**
 * Reads a PEM file or bundle of certificates that Certflow did not sign (an inventory import or a
 * scan), strictly: each `CERTIFICATE` block must be canonical base64 of one DER certificate that
 * @peculiar/x509 parses and re-encodes byte for byte; any other block (a private key, a CSR) or text
 * that is not PEM is an error for that item alone, never a reason to drop the others.
 */
import { createHash, X509Certificate as NodeCertificate } from 'node:crypto';
import { x509 } from './x509.js';
import type { KeyAlgorithm, Profile } from '../core/types.js';

/** A certificate found in a bundle (or served by an endpoint), described for the inventory. */
export interface ExternalCertificate {
  pem: string;
  /** SHA-256 of the DER, lower-case hex (as certificate_versions stores it). */
  fingerprintSha256: string;
  /** Lower-case hex without leading zero octets. */
  serial: string;
  subject: string;
  issuerName: string;
  commonName: string | null;
  dnsNames: string[];
  ipAddresses: string[];
  uris: string[];
  notBefore: Date;
  notAfter: Date;
  /** What the key really is, e.g. `ECDSA-P256`, `RSA-1024`, `EC-secp521r1`. */
  publicKey: string;
  /** The Certflow algorithm of the same kind, or null when Certflow issues none such. */
  keyAlgorithm: KeyAlgorithm | null;
  profile: Profile;
}

export type BundleItem = { index: number; certificate: ExternalCertificate } | { index: number; error: string };

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** Every block of `text` in order, each a certificate or an error; text outside the blocks must be blank. */
export function parsePemBundle(text: string): BundleItem[] {
  const items: BundleItem[] = [];
  let last = 0;
  for (const match of text.matchAll(BLOCK)) {
    const index = items.length;
    const between = text.slice(last, match.index);
    last = match.index + match[0].length;
    if (between.trim() !== '') items.push({ index, error: `text that is not PEM before block #${index + 1}: ${JSON.stringify(between.trim().slice(0, 40))}` });
    const at = items.length;
    if (match[1] !== 'CERTIFICATE') {
      items.push({ index: at, error: `block #${at + 1} is a ${match[1]}, not a CERTIFICATE${/PRIVATE KEY/.test(match[1]!) ? ': private keys are never imported' : ''}` });
      continue;
    }
    try {
      items.push({ index: at, certificate: readCertificateDer(strictBase64(match[2]!)) });
    } catch (error) {
      items.push({ index: at, error: `block #${at + 1}: ${(error as Error).message}` });
    }
  }
  if (items.length === 0) items.push({ index: 0, error: 'no PEM CERTIFICATE block found' });
  else if (text.slice(last).trim() !== '') items.push({ index: items.length, error: 'text that is not PEM after the last block' });
  return items;
}

function strictBase64(body: string): Buffer {
  const compact = body.replace(/[\r\n\t ]/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0) throw new Error('its base64 is malformed');
  const der = Buffer.from(compact, 'base64');
  if (der.toString('base64') !== compact) throw new Error('its base64 is not canonical');
  return der;
}

/** Describes one DER certificate; throws when @peculiar/x509 or Node cannot read it exactly. */
export function readCertificateDer(der: Buffer): ExternalCertificate {
  let parsed: x509.X509Certificate;
  try {
    parsed = new x509.X509Certificate(new Uint8Array(der));
  } catch (error) {
    throw new Error(`not a DER X.509 certificate (${(error as Error).message})`);
  }
  if (derLength(der) !== der.length) throw new Error('not a DER X.509 certificate (bytes after its end)');
  const node = new NodeCertificate(der);
  const names = parsed.getExtension(x509.SubjectAlternativeNameExtension)?.names.items ?? [];
  const key = publicKeyOf(node);
  const commonName = parsed.subjectName.getField('CN')[0] ?? null;
  const dnsNames = names.filter((name) => name.type === 'dns').map((name) => name.value.toLowerCase());
  const ipAddresses = names.filter((name) => name.type === 'ip').map((name) => name.value);
  const uris = names.filter((name) => name.type === 'url').map((name) => name.value);
  // Postgres text cannot hold NUL; such a name is also a classic spoofing trick: refuse this certificate alone.
  if ([parsed.subject, parsed.issuer, ...dnsNames, ...uris].some((text) => text.includes('\u0000'))) throw new Error('a name in it contains a NUL character');
  return {
    pem: `${parsed.toString('pem').trim()}\n`,
    fingerprintSha256: createHash('sha256').update(der).digest('hex'),
    serial: parsed.serialNumber.toLowerCase().replace(/^(00)+(?=..)/, ''),
    subject: parsed.subject,
    issuerName: parsed.issuer,
    commonName,
    dnsNames,
    ipAddresses,
    uris,
    notBefore: parsed.notBefore,
    notAfter: parsed.notAfter,
    publicKey: key.description,
    keyAlgorithm: key.algorithm,
    profile: profileOf(parsed),
  };
}

function publicKeyOf(certificate: NodeCertificate): { description: string; algorithm: KeyAlgorithm | null } {
  const key = certificate.publicKey;
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') {
    const description = `RSA-${details.modulusLength ?? '?'}`;
    return { description, algorithm: ['RSA-2048', 'RSA-3072', 'RSA-4096'].includes(description) ? (description as KeyAlgorithm) : null };
  }
  if (key.asymmetricKeyType === 'ec') {
    const curve = details.namedCurve ?? '?';
    if (curve === 'prime256v1') return { description: 'ECDSA-P256', algorithm: 'ECDSA-P256' };
    if (curve === 'secp384r1') return { description: 'ECDSA-P384', algorithm: 'ECDSA-P384' };
    return { description: `EC-${curve}`, algorithm: null };
  }
  if (key.asymmetricKeyType === 'ed25519') return { description: 'Ed25519', algorithm: 'Ed25519' };
  return { description: key.asymmetricKeyType ?? 'unknown', algorithm: null };
}

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

function profileOf(certificate: x509.X509Certificate): Profile {
  const usages = (certificate.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? []).map(String);
  const server = usages.length === 0 || usages.includes(SERVER_AUTH);
  const client = usages.includes(CLIENT_AUTH);
  if (server && client) return 'mtls';
  return client ? 'tls-client' : 'tls-server';
}

/** The length of the DER value that starts `der` (tag, length octets, content); -1 when the length octets are not DER. */
function derLength(der: Buffer): number {
  if (der.length < 2) return -1;
  const first = der[1]!;
  if (first < 0x80) return 2 + first;
  const octets = first & 0x7f;
  if (octets === 0 || octets > 4 || der.length < 2 + octets || der[2] === 0) return -1;
  let length = 0;
  for (let index = 0; index < octets; index++) length = length * 256 + der[2 + index]!;
  if (length < 0x80) return -1;
  return 2 + octets + length;
}

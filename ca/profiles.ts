/**
 * What goes into every leaf, per profile — the single description both the reference builder
 * (@peculiar/x509) and the fast template builder follow. Extensions appear in this order:
 * basicConstraints, keyUsage, extKeyUsage, subjectAltName, subjectKeyIdentifier,
 * authorityKeyIdentifier, cRLDistributionPoints, authorityInfoAccess, certificatePolicies.
 * Leaves carry a subjectKeyIdentifier as RFC 5280 §4.2.1.2 asks of a private CA; the CA/Browser
 * Forum BRs (7.1.2.7.6) advise against it only for publicly-trusted certificates.
 */
import type { KeyAlgorithm, Profile } from '../core/types.js';

/**
 * Certflow's certificate-policy OID. Under IANA's enterprise number reserved for documentation
 * (32473, RFC 5612) until the organisation registers its own: a UUID OID (2.25.<128-bit arc>) was
 * tried first and broke zlint, Go < 1.22 and Debian 12's python3-cryptography, which cannot parse
 * arcs that large.
 */
export const CERTFLOW_POLICY_OID = '1.3.6.1.4.1.32473.1.1';

export const OID = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

export const PROFILE_EXTENDED_KEY_USAGES: Record<Profile, string[]> = {
  'tls-server': [OID.serverAuth],
  'tls-client': [OID.clientAuth],
  mtls: [OID.serverAuth, OID.clientAuth],
};

/** Leaf key algorithms each profile accepts. Ed25519 only for clients: browsers do not accept it for servers. */
export const PROFILE_KEY_ALGORITHMS: Record<Profile, KeyAlgorithm[]> = {
  'tls-server': ['ECDSA-P256', 'ECDSA-P384', 'RSA-2048', 'RSA-3072', 'RSA-4096'],
  'tls-client': ['ECDSA-P256', 'ECDSA-P384', 'RSA-2048', 'RSA-3072', 'RSA-4096', 'Ed25519'],
  mtls: ['ECDSA-P256', 'ECDSA-P384', 'RSA-2048', 'RSA-3072', 'RSA-4096'],
};

/**
 * keyUsage: digitalSignature always; keyEncipherment only for RSA keys of TLS servers (RSA key
 * transport). RFC 5280 §4.2.1.12 does not allow keyEncipherment with clientAuth alone.
 */
export function leafKeyUsage(keyAlgorithm: KeyAlgorithm, profile: Profile): { digitalSignature: true; keyEncipherment: boolean } {
  return { digitalSignature: true, keyEncipherment: keyAlgorithm.startsWith('RSA') && PROFILE_EXTENDED_KEY_USAGES[profile].includes(OID.serverAuth) };
}

/** Public URLs of an issuer, written into the CRL distribution point and AIA of what it signs. */
export interface IssuerUrls {
  crl: string;
  caIssuers: string;
  ocsp: string;
}

export function issuerUrls(publicBaseUrl: string, issuerId: string): IssuerUrls {
  const base = publicBaseUrl.replace(/\/+$/, '');
  return {
    crl: `${base}/pki/issuers/${issuerId}.crl`,
    caIssuers: `${base}/pki/issuers/${issuerId}.crt`,
    ocsp: `${base}/pki/ocsp`,
  };
}

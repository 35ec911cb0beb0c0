/**
 * DER encodings of the leaf extensions described in profiles.ts that are the same for every
 * certificate of one (issuer, profile, key algorithm): the template builder encodes them once.
 * subjectAltName, the only per-certificate extension, is encoded in leaf-tbs.ts.
 */
import type { KeyAlgorithm, Profile } from '../core/types.js';
import { bitString, contextConstructed, contextPrimitive, extension, oid, sequence } from './der-writer.js';
import { type IssuerUrls, CERTFLOW_POLICY_OID, leafKeyUsage, PROFILE_EXTENDED_KEY_USAGES } from './profiles.js';

const EXTENSION_OID = {
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  authorityKeyIdentifier: '2.5.29.35',
  cRLDistributionPoints: '2.5.29.31',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  certificatePolicies: '2.5.29.32',
} as const;

const ACCESS_METHOD = { ocsp: '1.3.6.1.5.5.7.48.1', caIssuers: '1.3.6.1.5.5.7.48.2' } as const;

/** GeneralName uniformResourceIdentifier: [6] IMPLICIT IA5String (RFC 5280 §4.2.1.6). */
const URI_NAME_TAG = 6;

const uriName = (uri: string): Buffer => contextPrimitive(URI_NAME_TAG, Buffer.from(uri, 'ascii'));

/** basicConstraints, keyUsage, extKeyUsage: the extensions that come before subjectAltName. */
export function extensionsBeforeSan(profile: Profile, keyAlgorithm: KeyAlgorithm): Buffer {
  return Buffer.concat([
    // cA = FALSE is the DEFAULT, so DER leaves it out: an empty SEQUENCE.
    extension(EXTENSION_OID.basicConstraints, true, sequence()),
    extension(EXTENSION_OID.keyUsage, true, keyUsageBits(keyAlgorithm, profile)),
    extension(EXTENSION_OID.extKeyUsage, false, sequence(...PROFILE_EXTENDED_KEY_USAGES[profile].map(oid))),
  ]);
}

/** authorityKeyIdentifier, cRLDistributionPoints, authorityInfoAccess, certificatePolicies. */
export function extensionsAfterSan(issuerKeyIdentifier: Uint8Array, urls: IssuerUrls): Buffer {
  return Buffer.concat([
    extension(EXTENSION_OID.authorityKeyIdentifier, false, sequence(contextPrimitive(0, issuerKeyIdentifier))),
    // DistributionPoint { distributionPoint [0] { fullName [0] { URI } } }
    extension(EXTENSION_OID.cRLDistributionPoints, false, sequence(sequence(contextConstructed(0, contextConstructed(0, uriName(urls.crl)))))),
    extension(
      EXTENSION_OID.authorityInfoAccess,
      false,
      sequence(sequence(oid(ACCESS_METHOD.ocsp), uriName(urls.ocsp)), sequence(oid(ACCESS_METHOD.caIssuers), uriName(urls.caIssuers))),
    ),
    extension(EXTENSION_OID.certificatePolicies, false, sequence(sequence(oid(CERTFLOW_POLICY_OID)))),
  ]);
}

/**
 * keyUsage BIT STRING: digitalSignature (bit 0), plus keyEncipherment (bit 2) for RSA servers. DER
 * drops trailing zero bits, so the unused-bit count is 7 or 5.
 */
function keyUsageBits(keyAlgorithm: KeyAlgorithm, profile: Profile): Buffer {
  return leafKeyUsage(keyAlgorithm, profile).keyEncipherment ? bitString(Buffer.from([0xa0]), 5) : bitString(Buffer.from([0x80]), 7);
}

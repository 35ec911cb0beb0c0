/**
 * External account binding (RFC 8555 §7.3.4): a newAccount carries a JWS, MACed with a key the team
 * got from `POST /v1/teams/:id/acme-eab-keys`, over the account's public key. The MAC key is derived
 * from the key id and the platform's EAB secret, so the database stores no MAC key.
 */
import { createHmac, hkdfSync } from 'node:crypto';
import { base64url, flattenedVerify, type JWK } from 'jose';
import { jwkThumbprint } from './jws.js';
import { AcmeProblem } from './problem.js';

const EAB_ALGORITHMS = ['HS256', 'HS384', 'HS512'];

/**
 * The platform's ACME secret (CERTFLOW_ACME_EAB_SECRET): every EAB MAC key comes from it, and so does the
 * key ACME nonces are MACed with (db/acme-nonces.ts), which every API replica must share.
 */
export class EabSecret {
  /** The key of ACME nonces. */
  readonly nonceKey: Buffer;

  private constructor(private readonly secret: Buffer) {
    this.nonceKey = createHmac('sha256', secret).update('acme-nonce-key').digest();
  }

  static fromBytes(bytes: Uint8Array): EabSecret {
    if (bytes.length < 32) throw new Error('the ACME EAB secret must be at least 32 bytes');
    return new EabSecret(Buffer.from(hkdfSync('sha256', bytes, Buffer.alloc(0), 'certflow acme eab v1', 32)));
  }

  /** The MAC key of one EAB key id: what the team is shown once, base64url-encoded. */
  macKey(keyId: string): Buffer {
    return createHmac('sha256', this.secret).update(`eab-mac-key\0${keyId}`).digest();
  }
}

/**
 * Checks the binding of `accountJwk` made at `url` and returns the EAB key id it names. `isUsable`
 * says whether the key id exists and is not revoked; an unusable key and a bad MAC get the same
 * answer so that key ids cannot be probed.
 */
export async function verifyExternalAccountBinding(
  binding: unknown,
  context: { accountJwk: JWK; url: string; secret: EabSecret; isUsable: (keyId: string) => Promise<boolean> },
): Promise<string> {
  if (typeof binding !== 'object' || binding === null || Array.isArray(binding)) throw new AcmeProblem('malformed', 'externalAccountBinding must be a JWS object');
  const { protected: protectedPart, payload, signature } = binding as Record<string, unknown>;
  if (typeof protectedPart !== 'string' || typeof payload !== 'string' || typeof signature !== 'string') {
    throw new AcmeProblem('malformed', 'externalAccountBinding must be a flattened JWS with "protected", "payload" and "signature"');
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(base64url.decode(protectedPart))) as Record<string, unknown>;
  } catch {
    throw new AcmeProblem('malformed', 'the externalAccountBinding protected header is not base64url-encoded JSON');
  }
  if (typeof header !== 'object' || header === null) throw new AcmeProblem('malformed', 'the externalAccountBinding protected header must be an object');
  const { alg, kid, url, nonce } = header;
  if (typeof alg !== 'string' || !EAB_ALGORITHMS.includes(alg)) throw new AcmeProblem('malformed', `externalAccountBinding must be MACed with ${EAB_ALGORITHMS.join(', ')}`);
  if (nonce !== undefined) throw new AcmeProblem('malformed', 'the externalAccountBinding header must not carry a nonce');
  if (url !== context.url) throw new AcmeProblem('malformed', 'the externalAccountBinding "url" must be the newAccount URL');
  if (typeof kid !== 'string' || !/^eab_[a-z2-7]{20}$/.test(kid)) throw new AcmeProblem('unauthorized', 'the external account binding key is unknown, revoked or its MAC is wrong');
  let boundKey: unknown;
  try {
    boundKey = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(base64url.decode(payload)));
  } catch {
    throw new AcmeProblem('malformed', 'the externalAccountBinding payload must be the account JWK');
  }
  const refused = new AcmeProblem('unauthorized', 'the external account binding key is unknown, revoked or its MAC is wrong');
  try {
    await flattenedVerify({ protected: protectedPart, payload, signature }, context.secret.macKey(kid), { algorithms: [alg] });
  } catch {
    throw refused;
  }
  if (!(await context.isUsable(kid))) throw refused;
  const sameKey = await jwkThumbprint(boundKey as JWK)
    .then(async (thumbprint) => thumbprint === (await jwkThumbprint(context.accountJwk)))
    .catch(() => false);
  if (!sameKey) throw new AcmeProblem('malformed', 'the externalAccountBinding payload is not the account key of this request');
  return kid;
}

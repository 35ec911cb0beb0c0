/**
 * URI SANs, read strictly. Pure and workflow-safe (no node: imports, no WHATWG URL, whose
 * normalization would let the checked text differ from the signed text).
 *
 * - `spiffe://<trust domain><path>` per the SPIFFE ID spec: lower-case trust domain of
 *   [a-z0-9._-] (so no port, no userinfo), a non-empty path of segments of [A-Za-z0-9._-] with no
 *   empty, "." or ".." segment and no trailing "/", no query, no fragment, no percent-encoding.
 * - `https://<host><path>`: a lower-case DNS host (no userinfo, no port, no IP literal), an
 *   optional path; no query, no fragment.
 * - Any other scheme is returned as `other`, for the policy to refuse by name.
 * The text is never rewritten: what is checked is what is signed.
 */
import { canonicalizeDnsName, isWildcard, NameError } from './names.js';

export const MAX_URI_LENGTH = 2048;

export class UriError extends Error {
  constructor(
    readonly input: string,
    readonly reason: string,
  ) {
    super(`"${input}" is not an acceptable URI: ${reason}`);
    this.name = 'UriError';
  }
}

export type SanUri =
  | { kind: 'spiffe'; trustDomain: string; path: string }
  | { kind: 'https'; host: string; path: string }
  | { kind: 'other'; scheme: string };

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;
const TRUST_DOMAIN = /^[a-z0-9._-]+$/;
const SPIFFE_SEGMENT = /^[A-Za-z0-9._-]+$/;
const HTTPS_PATH = /^(?:\/[A-Za-z0-9._~!$&'()*+,;=:@%-]*)*$/;

export function parseSanUri(text: string): SanUri {
  if (text.length === 0) throw new UriError(text, 'it is empty');
  if (text.length > MAX_URI_LENGTH) throw new UriError(text, `it is ${text.length} characters long; the limit is ${MAX_URI_LENGTH}`);
  if (/[^\x21-\x7e]/.test(text)) throw new UriError(text, 'it contains spaces, control or non-ASCII characters');
  const scheme = SCHEME.exec(text)?.[1];
  if (!scheme) throw new UriError(text, 'it has no scheme (e.g. "spiffe://trust.domain/path")');
  if (scheme === 'spiffe') return parseSpiffe(text);
  if (scheme === 'https') return parseHttps(text);
  if (scheme.toLowerCase() === 'spiffe' || scheme.toLowerCase() === 'https') throw new UriError(text, `write the scheme in lower case ("${scheme.toLowerCase()}")`);
  return { kind: 'other', scheme: scheme.toLowerCase() };
}

/** True when `path` is `prefix` or lies under it segment-wise ("/ns/a" covers "/ns/a/x", not "/ns/ab"); "/" covers every path. */
export function isUnderPathPrefix(path: string, prefix: string): boolean {
  if (prefix === '/' || prefix === '') return true;
  const bare = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  return path === bare || path.startsWith(`${bare}/`);
}

function parseSpiffe(text: string): SanUri {
  const rest = text.slice('spiffe://'.length);
  if (!text.startsWith('spiffe://')) throw new UriError(text, 'a SPIFFE ID starts with "spiffe://"');
  if (/[?#]/.test(rest)) throw new UriError(text, 'a SPIFFE ID has no query or fragment');
  if (rest.includes('%')) throw new UriError(text, 'a SPIFFE ID has no percent-encoded characters');
  const slash = rest.indexOf('/');
  const trustDomain = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? '' : rest.slice(slash);
  if (trustDomain.length === 0) throw new UriError(text, 'the trust domain is empty');
  if (trustDomain.includes('@')) throw new UriError(text, 'a SPIFFE ID has no userinfo');
  if (trustDomain.includes(':')) throw new UriError(text, 'a SPIFFE ID has no port');
  if (trustDomain.length > 255) throw new UriError(text, 'the trust domain is longer than 255 characters');
  if (!TRUST_DOMAIN.test(trustDomain)) throw new UriError(text, 'the trust domain may contain only lower-case letters, digits, ".", "-" and "_"');
  if (path.length === 0) throw new UriError(text, 'a workload SPIFFE ID needs a path (the trust domain alone names no workload)');
  const segments = path.slice(1).split('/');
  for (const segment of segments) {
    if (segment.length === 0) throw new UriError(text, 'the path has an empty segment (a "//" or a trailing "/")');
    if (segment === '.' || segment === '..') throw new UriError(text, 'the path has a "." or ".." segment');
    if (!SPIFFE_SEGMENT.test(segment)) throw new UriError(text, `path segment "${segment}" may contain only letters, digits, ".", "-" and "_"`);
  }
  return { kind: 'spiffe', trustDomain, path };
}

function parseHttps(text: string): SanUri {
  if (!text.startsWith('https://')) throw new UriError(text, 'an https URI starts with "https://"');
  const rest = text.slice('https://'.length);
  if (/[?#]/.test(rest)) throw new UriError(text, 'an https URI SAN has no query or fragment');
  const slash = rest.indexOf('/');
  const host = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? '' : rest.slice(slash);
  if (host.includes('@')) throw new UriError(text, 'an https URI SAN has no userinfo (user@)');
  if (host.startsWith('[')) throw new UriError(text, 'an https URI SAN names a DNS host, not an IP literal');
  if (host.includes(':')) throw new UriError(text, 'an https URI SAN has no port');
  if (host !== host.toLowerCase()) throw new UriError(text, 'write the host in lower case');
  try {
    if (isWildcard(host)) throw new NameError(host, 'a URI host cannot be a wildcard');
    canonicalizeDnsName(host);
  } catch (error) {
    if (error instanceof NameError) throw new UriError(text, `its host: ${error.message}`);
    throw error;
  }
  if (!HTTPS_PATH.test(path)) throw new UriError(text, 'the path has characters a URI path may not carry');
  if (path.split('/').some((segment) => segment === '.' || segment === '..')) throw new UriError(text, 'the path has a "." or ".." segment');
  return { kind: 'https', host, path };
}

/**
 * Keeps secrets out of log lines: values under secret-looking keys are replaced, and secrets that
 * have a recognisable shape (bearer credentials, Certflow API tokens, PEM private keys, JWTs, URL
 * passwords, password=/token= pairs) or that the process knows (its KEK, audit key, bootstrap token,
 * metrics token, SMTP password) are cut out of free text. Pure.
 */
export const REDACTED = '[REDACTED]';

/** Keys whose values are secrets, whatever they hold (matched case-insensitively, ignoring - and _). */
const SECRET_KEY = /(token|secret|password|passwd|passphrase|authorization|cookie|hmackey|hmac|kek|privatekey|apikey|credential|pin$|^pin|signingkey|sealingkey|eabkey|auditkey|smtpurl|databaseurl|dsn$)/;
/** Keys that look secret by the pattern above but hold none. */
const NOT_SECRET_KEY = /^(tokenid|tokenids|tokencount|keyid|kekid|publickey|sealingpublickey|expiresin)$/;

const TEXT_PATTERNS: RegExp[] = [
  /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi,
  /\bcft_[A-Za-z0-9_-]+/g,
  /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g,
  /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g,
  // Userinfo with a password in a URL of any scheme (postgres://, smtp://, https://…).
  /\b([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@\s/]+@/gi,
  // key=value secrets in free text and query strings.
  /\b((?:password|passwd|pwd|pass|token|access_token|secret|client_secret|api_?key|apikey)=)("[^"]*"|'[^']*'|[^\s&;,"']+)/gi,
];

export function isSecretKey(key: string): boolean {
  const normalized = key.toLowerCase().replace(/[-_]/g, '');
  return SECRET_KEY.test(normalized) && !NOT_SECRET_KEY.test(normalized);
}

/** `text` with every known secret and every secret-shaped substring replaced by [REDACTED]. */
export function redactText(text: string, knownSecrets: readonly string[] = []): string {
  let out = text;
  for (const secret of knownSecrets) {
    if (secret.length >= 8) out = out.split(secret).join(REDACTED);
  }
  for (const pattern of TEXT_PATTERNS) {
    out = out.replace(pattern, (match, prefix: unknown) => {
      // Keep a connection string's user and host readable, and a scheme word (Bearer) as a hint.
      if (typeof prefix === 'string' && prefix.includes('://')) return `${prefix}${REDACTED}@`;
      if (typeof prefix === 'string' && prefix.endsWith('=')) return `${prefix}${REDACTED}`;
      if (typeof prefix === 'string' && /^(bearer|basic)$/i.test(prefix)) return `${prefix} ${REDACTED}`;
      return match.startsWith('-----BEGIN') ? `-----BEGIN PRIVATE KEY----- ${REDACTED}` : REDACTED;
    });
  }
  return out;
}

/**
 * A copy of `value` safe to log: secret keys' values replaced, strings scrubbed, errors turned into
 * `{type, message, stack}`. Cycles and depth beyond 8 are cut.
 */
export function redactValue(value: unknown, knownSecrets: readonly string[] = [], depth = 0, seen: WeakSet<object> = new WeakSet()): unknown {
  if (typeof value === 'string') return redactText(value, knownSecrets);
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return value;
  if (seen.has(value) || depth > 8) return '[…]';
  seen.add(value);
  if (value instanceof Error) {
    return {
      type: value.name,
      message: redactText(value.message, knownSecrets),
      ...(value.stack ? { stack: redactText(value.stack, knownSecrets) } : {}),
    };
  }
  if (ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
  if (Array.isArray(value)) return value.map((item) => redactValue(item, knownSecrets, depth + 1, seen));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = isSecretKey(key) && item !== null && item !== undefined && item !== '' ? REDACTED : redactValue(item, knownSecrets, depth + 1, seen);
  }
  return out;
}

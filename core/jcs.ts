/**
 * JSON Canonicalization Scheme (RFC 8785): the one byte sequence a JSON value hashes as. Object
 * members sorted by the UTF-16 code units of their names, no whitespace, strings escaped as
 * ECMAScript's JSON.stringify does, numbers as Number.prototype.toString (the "shortest
 * round-trip" form; -0 is 0). NaN and Infinity have no JSON form and are refused.
 */
export class JcsError extends Error {
  override name = 'JcsError';
}

export function canonicalize(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new JcsError(`${value} has no JSON form`);
      // ECMAScript Number::toString is exactly RFC 8785 §3.2.2.3 (String(-0) is "0").
      return String(value);
    case 'string':
      // JSON.stringify escapes exactly what RFC 8785 §3.2.2.2 requires: " \ and U+0000–U+001F.
      return JSON.stringify(value);
    case 'object':
      if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? 'null' : canonicalize(item))).join(',')}]`;
      return canonicalObject(value as Record<string, unknown>);
    default:
      throw new JcsError(`a ${typeof value} has no JSON form`);
  }
}

function canonicalObject(object: Record<string, unknown>): string {
  const names = Object.keys(object).filter((name) => object[name] !== undefined);
  // The default sort compares UTF-16 code units, which is what RFC 8785 §3.2.3 asks for.
  names.sort();
  return `{${names.map((name) => `${JSON.stringify(name)}:${canonicalize(object[name])}`).join(',')}}`;
}

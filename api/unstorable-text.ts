/**
 * Text Postgres cannot store: U+0000 (text and jsonb refuse it) and lone UTF-16 surrogates (jsonb
 * refuses their `\uD800` escapes). A request carrying either would fail at its first write, possibly
 * after a signal was sent or while a workflow retries that write for ever, so the parsers refuse it
 * up front, naming every offending field. Iterative, so a deeply nested body cannot overflow the stack.
 */
import type { FieldProblem } from './problem.js';

export const NUL_MESSAGE = 'must not contain the NUL character (U+0000)';
export const SURROGATE_MESSAGE = 'must not contain a lone UTF-16 surrogate (U+D800 to U+DFFF outside a pair)';
/** Enough to show what is wrong without echoing an attacker's whole body back. */
const MAX_PROBLEMS = 20;

/** A path deeper than this shows its two ends only (a 256 KiB body can nest tens of thousands deep). */
const MAX_PATH_SEGMENTS = 32;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const UNSTORABLE_CHARACTER = new RegExp(`\\u0000|${LONE_SURROGATE.source}`, 'g');

function textProblem(text: string): string | null {
  if (text.includes('\u0000')) return NUL_MESSAGE;
  if (LONE_SURROGATE.test(text)) return SURROGATE_MESSAGE;
  return null;
}

/** A path as a linked list from the leaf up, so a deeply nested body costs no copying. */
interface PathNode {
  segment: string;
  parent: PathNode | null;
}

/** Field paths in the zod style (`dnsNames/2`, `(body)` for the root); unstorable characters in a key show as escapes. */
function fieldPath(node: PathNode | null, where: 'body' | 'query'): string {
  const segments: string[] = [];
  for (let current = node; current; current = current.parent) segments.push(current.segment);
  if (segments.length === 0) return `(${where})`;
  segments.reverse();
  const shown = segments.length > MAX_PATH_SEGMENTS ? [...segments.slice(0, MAX_PATH_SEGMENTS / 2), '…', ...segments.slice(-MAX_PATH_SEGMENTS / 2)] : segments;
  return shown.map((segment) => segment.replace(UNSTORABLE_CHARACTER, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`)).join('/');
}

/** Every string, key or value at any depth of a parsed JSON body (or query object), that Postgres could not store. */
export function unstorableTextProblems(value: unknown, where: 'body' | 'query' = 'body'): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const pending: Array<{ value: unknown; path: PathNode | null }> = [{ value, path: null }];
  while (pending.length > 0 && problems.length < MAX_PROBLEMS) {
    const { value: current, path } = pending.pop()!;
    if (typeof current === 'string') {
      const message = textProblem(current);
      if (message) problems.push({ field: fieldPath(path, where), message });
    } else if (Array.isArray(current)) {
      for (let index = current.length - 1; index >= 0; index--) pending.push({ value: current[index], path: { segment: String(index), parent: path } });
    } else if (current !== null && typeof current === 'object') {
      const entries = Object.entries(current);
      for (let index = entries.length - 1; index >= 0; index--) {
        const [key, child] = entries[index]!;
        const childPath = { segment: key, parent: path };
        const message = textProblem(key);
        if (message) problems.push({ field: fieldPath(childPath, where), message: `its name ${message}` });
        pending.push({ value: child, path: childPath });
      }
    }
  }
  return problems.slice(0, MAX_PROBLEMS);
}

/**
 * Destinations are owned: a place certificates are written to belongs to one certificate from its
 * first claim (db/destination-claims.ts stores the claims). Pure: the claim key of a destination,
 * and which keys collide.
 *
 * - `file:<root>/<directory>`: the absolute directory on the worker's host, lower-cased (two names
 *   that differ in case are one directory on a case-insensitive file system, so they collide
 *   everywhere). A directory also collides with every directory inside it and every directory it
 *   lies in: the outer one's `versions/`, `current` and `*.pem` would be written through.
 * - `agent:<agentId>/<target>`: one target of one agent.
 * - `kubernetes:<cluster>/<namespace>/<secretName>`: one Secret of one registered cluster (the
 *   names are lower-case DNS names already, and a Secret name holds no `/`, so no key lies inside another).
 * - webhooks have no key: a URL may receive many certificates (each delivery names its certificate).
 */
import type { DestinationType } from './types.js';

export interface ClaimableDestination {
  type: DestinationType;
  directory?: string;
  agentId?: string;
  target?: string;
  cluster?: string;
  namespace?: string;
  secretName?: string;
}

/**
 * The absolute, normalized form of `directory` below `root` (both POSIX paths): `.` and empty
 * segments dropped, `..` resolved; null when the result is not strictly inside the root.
 */
export function directoryInsideRoot(root: string, directory: string): string | null {
  const base = normalizeSegments(root.split('/'));
  if (!base) return null;
  const joined = directory.startsWith('/') ? null : normalizeSegments([...base, ...directory.split('/')]);
  if (!joined || joined.length <= base.length || base.some((segment, index) => joined[index] !== segment)) return null;
  return `/${joined.join('/')}`;
}

function normalizeSegments(parts: string[]): string[] | null {
  const segments: string[] = [];
  for (const part of parts) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (segments.length === 0) return null;
      segments.pop();
    } else {
      segments.push(part);
    }
  }
  return segments;
}

/** The claim key of a destination, or null for kinds that are not exclusive (webhooks) or a directory outside the root. */
export function destinationClaimKey(destination: ClaimableDestination, fileRoot: string): string | null {
  if (destination.type === 'file' && destination.directory !== undefined) {
    const absolute = directoryInsideRoot(fileRoot, destination.directory);
    return absolute === null ? null : `file:${absolute.toLowerCase()}`;
  }
  if (destination.type === 'agent' && destination.agentId !== undefined && destination.target !== undefined) {
    return `agent:${destination.agentId}/${destination.target.toLowerCase()}`;
  }
  if (destination.type === 'kubernetes' && destination.cluster !== undefined && destination.namespace !== undefined && destination.secretName !== undefined) {
    return `kubernetes:${destination.cluster}/${destination.namespace}/${destination.secretName}`;
  }
  return null;
}

/** True when two keys name the same place, or one lies inside the other. */
export function claimKeysCollide(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
}

/** The keys that would collide with `key` by lying above it (its parent directories). */
export function enclosingKeys(key: string): string[] {
  const colon = key.indexOf(':');
  const prefix = key.slice(0, colon + 1);
  const segments = key.slice(colon + 1).split('/');
  const enclosing: string[] = [];
  for (let count = segments.length - 1; count >= 1; count--) {
    const path = segments.slice(0, count).join('/');
    if (path !== '') enclosing.push(`${prefix}${path}`);
  }
  return enclosing;
}

/** Two destinations of one request that collide with each other: their indexes, or null. */
export function collidingPair(keys: Array<string | null>): [number, number] | null {
  for (let i = 0; i < keys.length; i++) {
    for (let j = i + 1; j < keys.length; j++) {
      if (keys[i] !== null && keys[j] !== null && claimKeysCollide(keys[i]!, keys[j]!)) return [i, j];
    }
  }
  return null;
}

/**
 * What two colliding claims always share, so that claiming locks it (one advisory lock per scope):
 * a file key's first directory below the root; any other key itself.
 */
export function claimLockScope(key: string, fileRoot: string): string {
  const root = directoryInsideRoot(fileRoot, 'x');
  const prefix = root === null ? null : `file:${root.slice(0, -1).toLowerCase()}`;
  if (prefix === null || !key.startsWith(prefix)) return key;
  const [first] = key.slice(prefix.length).split('/');
  return `${prefix}${first}`;
}

import { describe, expect, it } from 'vitest';
import { claimKeysCollide, claimLockScope, collidingPair, destinationClaimKey, directoryInsideRoot, enclosingKeys } from '../../../core/destination-claims.js';

const ROOT = '/var/lib/certflow/deliveries';

describe('destinationClaimKey', () => {
  it.each([
    ['ok/file directory below the root', { type: 'file' as const, directory: 'web/tls' }, 'file:/var/lib/certflow/deliveries/web/tls'],
    ['ok/case folded (case-insensitive file systems)', { type: 'file' as const, directory: 'Web/TLS' }, 'file:/var/lib/certflow/deliveries/web/tls'],
    ['ok/trailing slash, "." and doubled slashes normalized', { type: 'file' as const, directory: './web//tls/' }, 'file:/var/lib/certflow/deliveries/web/tls'],
    ['ok/".." resolved inside the root', { type: 'file' as const, directory: 'web/../api' }, 'file:/var/lib/certflow/deliveries/api'],
    ['ok/agent target', { type: 'agent' as const, agentId: 'agt_abc', target: 'Web' }, 'agent:agt_abc/web'],
    ['ok/webhooks are not exclusive', { type: 'webhook' as const }, null],
    ['fail/".." out of the root has no key', { type: 'file' as const, directory: '../other' }, null],
    ['fail/the root itself has no key', { type: 'file' as const, directory: 'web/..' }, null],
    ['fail/absolute directory has no key', { type: 'file' as const, directory: '/etc' }, null],
  ])('%s', (_name, destination, want) => expect(destinationClaimKey(destination, ROOT)).toBe(want));

  it('ok/the root is normalized too', () => expect(directoryInsideRoot('/srv//certs/', 'a')).toBe('/srv/certs/a'));
});

describe('claimKeysCollide', () => {
  it.each([
    ['fail/same directory', 'file:/r/a', 'file:/r/a', true],
    ['fail/a directory inside a claimed one', 'file:/r/a', 'file:/r/a/versions/1', true],
    ['fail/a directory around a claimed one', 'file:/r/a/b', 'file:/r/a', true],
    ['ok/siblings sharing a prefix', 'file:/r/app', 'file:/r/app2', false],
    ['ok/siblings', 'file:/r/a/b', 'file:/r/a/c', false],
    ['ok/different kinds', 'agent:agt_x/web', 'file:/r/web', false],
  ])('%s', (_name, a, b, want) => expect(claimKeysCollide(a, b)).toBe(want));
});

describe('enclosingKeys, claimLockScope, collidingPair', () => {
  it('ok/every parent of a key', () => expect(enclosingKeys('file:/r/a/b')).toEqual(['file:/r/a', 'file:/r']));
  it('ok/nested directories share a lock scope', () => {
    const outer = destinationClaimKey({ type: 'file', directory: 'a' }, ROOT)!;
    const inner = destinationClaimKey({ type: 'file', directory: 'a/b/c' }, ROOT)!;
    expect(claimLockScope(outer, ROOT)).toBe('file:/var/lib/certflow/deliveries/a');
    expect(claimLockScope(inner, ROOT)).toBe(claimLockScope(outer, ROOT));
  });
  it('ok/an agent key is its own scope', () => expect(claimLockScope('agent:agt_x/web', ROOT)).toBe('agent:agt_x/web'));
  it('fail/two destinations of one request that collide', () => expect(collidingPair(['file:/r/a', null, 'file:/r/a/b'])).toEqual([0, 2]));
  it('ok/no collision', () => expect(collidingPair(['file:/r/a', null, 'file:/r/b'])).toBeNull());
});

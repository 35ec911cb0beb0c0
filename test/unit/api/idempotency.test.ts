import { describe, expect, it } from 'vitest';
import { canonicalJson, idempotencyScope, parseIdempotencyKey, requestHash } from '../../../api/idempotency.js';
import { ProblemError } from '../../../api/problem.js';

describe('Idempotency-Key', () => {
  const accepted: Array<[string, string]> = [
    ['ok/uuid', '6f1c2b7e-3f7a-4c55-9d59-1a2b3c4d5e6f'],
    ['ok/one character', 'x'],
    ['ok/255 characters', 'k'.repeat(255)],
    ['ok/base64 punctuation', 'ab+/=:._~'],
  ];
  for (const [name, key] of accepted) it(name, () => expect(parseIdempotencyKey(key)).toBe(key));

  it('ok/absent header means no key', () => expect(parseIdempotencyKey(undefined)).toBeNull());

  const refused: Array<[string, string]> = [
    ['fail/empty', ''],
    ['fail/256 characters', 'k'.repeat(256)],
    ['fail/space', 'a b'],
    ['fail/non-ASCII', 'clé'],
    ['fail/control character', 'a\tb'],
  ];
  for (const [name, key] of refused) {
    it(name, () => {
      let error: unknown;
      try {
        parseIdempotencyKey(key);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ProblemError);
      expect((error as ProblemError).status).toBe(400);
      expect((error as ProblemError).toBody().errors?.[0]?.field).toBe('Idempotency-Key');
    });
  }

  it('scopes keys to the team, or to the token when it has no team', () => {
    expect(idempotencyScope({ tokenId: 'tok_1', principalId: 'prn_1', accountableId: 'prn_1', teamId: 'team_a', role: 'requester' })).toBe('team:team_a');
    expect(idempotencyScope({ tokenId: 'tok_2', principalId: 'prn_2', accountableId: 'prn_2', teamId: 'team_a', role: 'admin' })).toBe('team:team_a');
    expect(idempotencyScope({ tokenId: 'tok_3', principalId: 'prn_3', accountableId: 'prn_3', teamId: null, role: 'admin' })).toBe('token:tok_3');
  });
});

describe('canonical request', () => {
  it('ignores key order at every level', () => {
    const a = { team: 't', dnsNames: ['a.example.test'], destinations: [{ type: 'file', directory: 'd', verify: { timeout: 5, endpoints: [] } }] };
    const b = { destinations: [{ verify: { endpoints: [], timeout: 5 }, directory: 'd', type: 'file' }], dnsNames: ['a.example.test'], team: 't' };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(requestHash(a)).toBe(requestHash(b));
  });

  const different: Array<[string, unknown, unknown]> = [
    ['array order matters', { dnsNames: ['a', 'b'] }, { dnsNames: ['b', 'a'] }],
    ['a number is not its string', { validity: 3600 }, { validity: '3600' }],
    ['an extra field matters', { team: 't' }, { team: 't', profile: 'tls-server' }],
    ['null is not absent', { csr: null }, {}],
    ['nested values matter', { destinations: [{ type: 'file', directory: 'a' }] }, { destinations: [{ type: 'file', directory: 'b' }] }],
  ];
  for (const [name, a, b] of different) it(name, () => expect(requestHash(a)).not.toBe(requestHash(b)));

  it('is JSON', () => {
    const value = { b: [1, 'x', null, true, { d: 1, c: 'é"' }], a: {} };
    expect(JSON.parse(canonicalJson(value))).toEqual(value);
    expect(canonicalJson(value)).toBe('{"a":{},"b":[1,"x",null,true,{"c":"é\\"","d":1}]}');
  });
});

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { validateChallenge } from '../../../activities/acme-challenge-validation.js';
import { dns01TxtValue } from '../../../core/acme-key-authorization.js';
import { ACME_VALIDATION_UNAVAILABLE } from '../../../core/acme-validation-outcome.js';
import { startDnsTxtServer, type DnsTxtServer } from '../../support/dns-txt-server.js';
import { challengeKeys, deps, guard, transientFailure } from './acme-support.js';

let dns: DnsTxtServer;
let token: string;
let keyAuthorization: string;

beforeAll(async () => {
  dns = await startDnsTxtServer();
  ({ token, keyAuthorization } = await challengeKeys());
});

afterAll(async () => {
  await dns.close();
});

beforeEach(() => {
  dns.answers.clear();
  dns.questions.length = 0;
});

const input = (name: string) => ({ type: 'dns-01' as const, identifier: { type: 'dns' as const, value: name }, token, keyAuthorization, policy: undefined });
const validate = (name: string, timeoutMs = 2_000) => validateChallenge(deps({ dnsResolver: dns.address, timeoutMs }), input(name));

describe('dns-01 (RFC 8555 §8.4)', () => {
  it('ok/one of the TXT records at _acme-challenge.<name> holds base64url(SHA-256(key authorization))', async () => {
    dns.answers.set('_acme-challenge.www.example.test', [['unrelated'], [dns01TxtValue(keyAuthorization)]]);
    expect(await validate('www.example.test')).toEqual({ status: 'valid' });
    expect(dns.questions).toEqual(['_acme-challenge.www.example.test']);
  });

  it('ok/a value split over several character-strings of one record is joined', async () => {
    const value = dns01TxtValue(keyAuthorization);
    dns.answers.set('_acme-challenge.www.example.test', [[value.slice(0, 20), value.slice(20)]]);
    expect(await validate('www.example.test')).toEqual({ status: 'valid' });
  });

  it('ok/a wildcard is validated at its base name', async () => {
    dns.answers.set('_acme-challenge.example.test', [[dns01TxtValue(keyAuthorization)]]);
    expect(await validate('*.example.test')).toEqual({ status: 'valid' });
    expect(dns.questions).toEqual(['_acme-challenge.example.test']);
  });

  it("ok/needs no destination policy and no guard admission: it asks the operator's resolver, not the client's host", async () => {
    dns.answers.set('_acme-challenge.www.other.test', [[dns01TxtValue(keyAuthorization)]]);
    const strict = guard({ services: [], allowedExceptions: [], extraDenied: [] });
    expect(await validateChallenge(deps({ dnsResolver: dns.address }, strict), input('www.other.test'))).toEqual({ status: 'valid' });
  });

  it('fail/TXT records none of which holds the value are incorrectResponse, showing what was found', async () => {
    dns.answers.set('_acme-challenge.www.example.test', [[dns01TxtValue(`${keyAuthorization}x`)], ['v=spf1 -all']]);
    const result = await validate('www.example.test');
    expect(result).toEqual({
      status: 'invalid',
      problem: { type: 'urn:ietf:params:acme:error:incorrectResponse', detail: expect.stringContaining('"v=spf1 -all"') },
    });
  });

  it('fail/no TXT record (NXDOMAIN or no data) is dns', async () => {
    dns.answers.set('_acme-challenge.empty.example.test', []);
    for (const name of ['missing.example.test', 'empty.example.test']) {
      expect(await validate(name)).toEqual({ status: 'invalid', problem: { type: 'urn:ietf:params:acme:error:dns', detail: expect.stringContaining(`no TXT record at _acme-challenge.${name}`) } });
    }
  });

  it('transient/SERVFAIL is retryable, carrying a dns problem', async () => {
    dns.answers.set('_acme-challenge.www.example.test', 'servfail');
    const failure = await transientFailure(validate('www.example.test'));
    expect(failure).toMatchObject({ type: ACME_VALIDATION_UNAVAILABLE, nonRetryable: false, problem: { type: 'urn:ietf:params:acme:error:dns', detail: expect.stringContaining('ESERVFAIL') } });
  });

  it('transient/a resolver that never answers is retryable, within the timeout', async () => {
    dns.answers.set('_acme-challenge.www.example.test', 'no-answer');
    const started = Date.now();
    const failure = await transientFailure(validate('www.example.test', 400));
    expect(failure).toMatchObject({ type: ACME_VALIDATION_UNAVAILABLE, nonRetryable: false, problem: { type: 'urn:ietf:params:acme:error:dns' } });
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('input/an IP address identifier fails non-retryably (RFC 8738 §7)', async () => {
    const failure = await validateChallenge(deps({ dnsResolver: dns.address }), { ...input('127.0.0.1'), identifier: { type: 'ip', value: '127.0.0.1' } }).catch((error: unknown) => error);
    expect(failure).toMatchObject({ type: 'InvalidRequest', nonRetryable: true });
  });
});

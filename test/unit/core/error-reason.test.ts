import { describe, expect, it } from 'vitest';
import { ApplicationFailure } from '@temporalio/common';
import { failureReason, failureType } from '../../../core/error-reason.js';

describe('failureReason', () => {
  const same: { name: string; a: string; b: string }[] = [
    { name: 'ok/addresses and ports differ', a: 'connect ECONNREFUSED 10.0.0.7:443', b: 'connect ECONNREFUSED 10.0.0.9:8443' },
    { name: 'ok/certificate ids differ', a: 'certificate crt_abcdefghijk2 not found', b: 'certificate crt_zzzzzzzzzzz7 not found' },
    { name: 'ok/serials differ', a: 'endpoint serves serial 4f3a9c0d11e2b7aa, expected 01aa77bb3c9d4e5f', b: 'endpoint serves serial 77aa00ff12cd34ef, expected 02bb66cc1d2e3f4a' },
    { name: 'ok/quoted names differ', a: 'name "a.example.test" is not allowed by policy', b: 'name "b.example.test" is not allowed by policy' },
    { name: 'ok/host names differ', a: 'not served after 1 s: 127.0.0.1:4001 (SNI one.example.test): connection refused', b: 'not served after 1 s: 127.0.0.1:4002 (SNI two.example.test): connection refused' },
    { name: 'ok/only the first line counts', a: 'webhook answered 500\nstack a', b: 'webhook answered 503\nstack b' },
  ];
  it.each(same)('$name', ({ a, b }) => expect(failureReason(a)).toBe(failureReason(b)));

  it('fail/different causes stay apart', () => {
    expect(failureReason('webhook answered 401')).not.toBe(failureReason('verify endpoint refused before connecting'));
  });
  it('ok/keeps the words', () => {
    expect(failureReason('connect ECONNREFUSED 127.0.0.1:9')).toBe('connect ECONNREFUSED <ip>:<n>');
  });
  it('ok/long messages are cut', () => {
    expect(failureReason('x'.repeat(1000)).length).toBe(300);
  });
});

describe('failureType', () => {
  it('ok/an ApplicationFailure by its type', () => expect(failureType(ApplicationFailure.nonRetryable('no', 'PolicyViolation'))).toBe('PolicyViolation'));
  it('ok/an Error by its class', () => expect(failureType(new TypeError('x'))).toBe('TypeError'));
  it('ok/anything else', () => expect(failureType('boom')).toBe('Error'));
});

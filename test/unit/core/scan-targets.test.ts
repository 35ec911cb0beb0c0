import { describe, expect, it } from 'vitest';
import { expandScanTarget } from '../../../core/scan-targets.js';

describe('expandScanTarget', () => {
  const ok: Array<[string, string[]]> = [
    ['ok/host', 'svc.example.test:443', ['svc.example.test:443']],
    ['ok/upper-case host', 'SVC.Example.Test:8443', ['svc.example.test:8443']],
    ['ok/ipv4', '10.0.0.5:443', ['10.0.0.5:443']],
    ['ok/ipv6', '[::1]:8443', ['[::1]:8443']],
    ['ok//30 from any address in it', '10.0.0.6/30:443', ['10.0.0.4:443', '10.0.0.5:443', '10.0.0.6:443', '10.0.0.7:443']],
    ['ok//32', '192.168.1.1/32:1', ['192.168.1.1:1']],
  ].map(([, target, endpoints]) => [target as string, endpoints as string[]]);
  it.each(ok)('%s expands to its endpoints', (target, endpoints) => {
    const result = expandScanTarget(target);
    expect('endpoints' in result ? result.endpoints.map((endpoint) => endpoint.endpoint) : result).toEqual(endpoints);
  });

  it('a /24 is the largest range', () => {
    const result = expandScanTarget('10.1.2.0/24:443');
    expect('endpoints' in result && result.endpoints.length).toBe(256);
  });

  it.each([
    ['fail/no port', 'svc.example.test'],
    ['fail/port 0', 'svc.example.test:0'],
    ['fail/port too big', 'svc.example.test:70000'],
    ['fail/range too large', '10.0.0.0/16:443'],
    ['fail/range of a name', 'svc.example.test/30:443'],
    ['fail/bad octet', '10.0.0.256:443'],
    ['fail/bad octet in a range', '10.0.0.300/30:443'],
    ['fail/url', 'https://svc.example.test:443'],
    ['fail/bad name', 'bad_name!.test:443'],
  ])('%s', (_name, target) => {
    expect(expandScanTarget(target)).toHaveProperty('error');
  });
});

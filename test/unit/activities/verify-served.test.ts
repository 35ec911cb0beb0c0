/** The probing loop of verifyServed against real TLS servers, on a fake clock (the DB part: test/integration/verify-served.test.ts). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeTarget, watchEndpoints, type EndpointObservation, type ExpectedCertificate } from '../../../activities/verify-served.js';
import { issueTestLeaf, startTlsServer, type TestLeaf, type TestTlsServer } from './tls-support.js';

let oldLeaf: TestLeaf;
let newLeaf: TestLeaf;
let first: TestTlsServer;
let second: TestTlsServer;
let expected: ExpectedCertificate;

beforeAll(async () => {
  oldLeaf = await issueTestLeaf('app.example.test', '1a2b000000000000000000000000aaaa');
  newLeaf = await issueTestLeaf('app.example.test', '3c4d000000000000000000000000bbbb');
  first = await startTlsServer(oldLeaf);
  second = await startTlsServer(oldLeaf);
  expected = { serial: newLeaf.serial, fingerprintSha256: newLeaf.fingerprintSha256, generation: 2 };
});

afterAll(async () => {
  await first.close();
  await second.close();
});

/** A clock that only moves when the loop sleeps; `onSleep` runs before each pause. */
function fakeTime(onSleep: (pause: number) => void = () => undefined) {
  let now = Date.parse('2026-03-01T00:00:00Z');
  const pauses: number[] = [];
  const rounds: EndpointObservation[][] = [];
  return {
    pauses,
    rounds,
    start: new Date(now),
    now: () => new Date(now),
    sleep: async (ms: number) => {
      pauses.push(ms);
      onSleep(ms);
      now += ms;
    },
    onRound: (observations: EndpointObservation[]) => rounds.push(observations),
  };
}

const targets = () => [
  { host: '127.0.0.1', port: first.port, serverName: 'app.example.test' },
  { host: '127.0.0.1', port: second.port, serverName: 'app.example.test' },
];

describe('watchEndpoints', () => {
  it('ok/waits with doubling pauses until every endpoint serves the version', async () => {
    first.serve(oldLeaf);
    second.serve(oldLeaf);
    const time = fakeTime(() => {
      // The first endpoint switches after the 2nd round, the second after the 4th.
      if (time.pauses.length === 2) first.serve(newLeaf);
      if (time.pauses.length === 4) second.serve(newLeaf);
    });
    const outcome = await watchEndpoints(targets(), expected, { deadline: new Date(time.start.getTime() + 60_000), ...time });

    expect(outcome.served).toBe(true);
    expect(outcome.detail).toBe(`all 2 endpoints serve serial ${newLeaf.serial}`);
    expect(time.pauses).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect(time.rounds).toHaveLength(5);
    expect(time.rounds[2]!.map((observation) => observation.servedSerial)).toEqual([newLeaf.serial, oldLeaf.serial]);
    expect(outcome.endpoints).toEqual([
      { endpoint: `127.0.0.1:${first.port} (SNI app.example.test)`, servedFingerprint: newLeaf.fingerprintSha256, servedSerial: newLeaf.serial, error: null },
      { endpoint: `127.0.0.1:${second.port} (SNI app.example.test)`, servedFingerprint: newLeaf.fingerprintSha256, servedSerial: newLeaf.serial, error: null },
    ]);
  });

  it('ok/pauses are capped at 15 s and the last one ends at the deadline', async () => {
    first.serve(oldLeaf);
    const time = fakeTime();
    const outcome = await watchEndpoints([targets()[0]!], expected, { deadline: new Date(time.start.getTime() + 50_000), ...time });
    expect(outcome.served).toBe(false);
    expect(time.pauses).toEqual([1_000, 2_000, 4_000, 8_000, 15_000, 15_000, 5_000]);
  });

  it('fail/the deadline passes: names what each endpoint serves instead', async () => {
    first.serve(newLeaf);
    second.serve(oldLeaf);
    const time = fakeTime();
    const outcome = await watchEndpoints(targets(), expected, { deadline: new Date(time.start.getTime() + 2_500), ...time });

    expect(outcome.served).toBe(false);
    expect(time.pauses).toEqual([1_000, 1_500]);
    expect(outcome.detail).toBe(
      `not served after 3 s: 127.0.0.1:${second.port} (SNI app.example.test) serves serial ${oldLeaf.serial} (fingerprint ${oldLeaf.fingerprintSha256}), not serial ${newLeaf.serial} (generation 2)`,
    );
    expect(outcome.endpoints[1]!.servedSerial).toBe(oldLeaf.serial);
  });

  it('fail/an unreachable endpoint is reported with the probe error', async () => {
    const time = fakeTime();
    const outcome = await watchEndpoints([{ host: '127.0.0.1', port: 1 }], expected, { deadline: time.start, ...time });
    expect(outcome.served).toBe(false);
    expect(time.pauses).toEqual([]);
    expect(outcome.detail).toBe(`not served after 0 s: 127.0.0.1:1: connection refused (expected serial ${newLeaf.serial} (generation 2))`);
    expect(outcome.endpoints).toEqual([{ endpoint: '127.0.0.1:1', servedFingerprint: null, servedSerial: null, error: 'connection refused' }]);
  });
});

describe('probeTarget', () => {
  it.each([
    { name: 'ok/explicit SNI wins', endpoint: { host: '10.0.0.1', port: 443, serverName: 'lb.example.test' }, dns: 'app.example.test', sni: 'lb.example.test' },
    { name: 'ok/defaults to the first DNS name', endpoint: { host: '10.0.0.1', port: 443 }, dns: 'app.example.test', sni: 'app.example.test' },
    { name: 'ok/no DNS name, no SNI', endpoint: { host: '10.0.0.1', port: 443 }, dns: undefined, sni: undefined },
  ])('$name', ({ endpoint, dns, sni }) => {
    expect(probeTarget(endpoint, dns)).toEqual({ host: endpoint.host, port: endpoint.port, serverName: sni });
  });
});

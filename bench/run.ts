/**
 * `npm run bench`: issuance rates against the raw node:crypto primitives, on one Node.js thread
 * pinned to one CPU (re-executed under `taskset -c 0 node --expose-gc` when taskset exists); then,
 * unpinned and in a process of its own, the end-to-end ACME benchmark (bench/acme.ts, also
 * `npm run bench:acme`; CERTFLOW_BENCH_SKIP_ACME=1 leaves it out).
 *
 * Per key algorithm (issuer and subject keys of the same algorithm):
 *   raw sign                      crypto.sign over a 400-byte buffer (a TBSCertificate's size)
 *   Certflow build + sign         LeafTemplates.build for a known public key (serial included)
 *   reference builder             test/support/reference-leaf.ts (@peculiar/x509), for comparison
 *   raw verify + sign             crypto.verify of a CSR-sized signature with a ready KeyObject, then sign
 *   raw import + verify + sign    the same, importing the key from its SPKI DER first
 *   raw import JWK + verify + sign  the same through a JWK, as readCsr imports P-256 and RSA keys: the
 *                                 ceiling of any path that verifies a CSR of a key it has not seen
 *   Certflow full from PEM CSR    issueFromRequest: parse, verify, key checks, policy, build, lint, sign, PEM
 * plus the two heaviest steps of the full path on their own, and for RSA the full path with the RSA
 * key-check verdict cache emptied before each issuance (a key never seen before).
 */
import { spawnSync } from 'node:child_process';
import { createPublicKey, sign, verify } from 'node:crypto';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { readCsr } from '../ca/csr.js';
import { issueFromRequest, type IssuanceDeps } from '../ca/issuance.js';
import { checkSubjectPublicKey, rsaCheckedKeys } from '../ca/key-checks.js';
import { buildLeafCertificate } from '../test/support/reference-leaf.js';
import { randomSerial } from '../ca/serial.js';
import type { KeyAlgorithm } from '../core/types.js';
import { BENCH_POLICY, benchSetup, type BenchSetup, ISSUED_AT } from './fixtures.js';
import { DEFAULT_MEASURE, measureRounds, median, type Operation } from './measure.js';

const ALGORITHMS: { keyAlgorithm: KeyAlgorithm; poolSize: number }[] = [
  { keyAlgorithm: 'ECDSA-P256', poolSize: 32 },
  { keyAlgorithm: 'ECDSA-P384', poolSize: 32 },
  { keyAlgorithm: 'RSA-2048', poolSize: 8 },
];
const VALIDITY_SECONDS = 30 * 86_400;
/** Targets from the issue, as fractions of the matching raw rate. */
const TARGETS = { buildAndSign: 0.5, fullFromCsr: 0.5 };

const UNPINNED = 'not pinned (taskset unavailable)';

/**
 * The second phase: bench/acme.ts in its own process, on every CPU (it measures a whole platform on
 * the machine: Postgres, Temporal, the worker, the API, the ACME clients), after the pinned phase.
 */
function acmePhase(): number {
  if (process.env.CERTFLOW_BENCH_SKIP_ACME) return 0;
  console.log('');
  const { CERTFLOW_BENCH_PINNED: _pinned, ...env } = process.env;
  const acme = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(new URL('./acme.ts', import.meta.url))], { stdio: 'inherit', env });
  return acme.error ? 1 : (acme.status ?? 1);
}

if (!process.env.CERTFLOW_BENCH_PINNED) {
  const pinned = spawnSync('taskset', ['-c', '0', process.execPath, '--expose-gc', ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, CERTFLOW_BENCH_PINNED: 'cpu 0 (taskset -c 0)' },
  });
  if (!pinned.error) process.exit(pinned.status === 0 ? acmePhase() : (pinned.status ?? 1));
  process.env.CERTFLOW_BENCH_PINNED = UNPINNED;
}

interface Row {
  label: string;
  /** Per-round rates. */
  rates: number[];
  /** The raw row this one is compared with (median of per-round ratios), and the target if there is one. */
  versus?: { label: string; rates: number[]; target?: number };
}

function cycle<T>(items: T[]): () => T {
  let index = 0;
  return () => items[index++ % items.length]!;
}

async function benchAlgorithm(setup: BenchSetup): Promise<Row[]> {
  const { templates, subjects, hash, signingKey } = setup;
  const tbs = Buffer.alloc(400, 0x5a);
  const nextSubject = cycle(subjects);
  const deps: IssuanceDeps = { templates, now: () => ISSUED_AT, serial: randomSerial };
  const notBefore = new Date(ISSUED_AT.getTime() - 60_000);
  const notAfter = new Date(ISSUED_AT.getTime() + VALIDITY_SECONDS * 1000);
  const commonName = 'svc.bench.example.com';
  const dnsNames = [commonName];

  const operations: Operation[] = [
    { name: 'rawSign', run: () => sign(hash, tbs, signingKey) },
    {
      name: 'build',
      // Spelled out, not spread: `{ ...a, b }` alone costs microseconds in Node 20.
      run: () =>
        templates.build({
          serial: randomSerial(),
          commonName,
          dnsNames,
          ipAddresses: [],
          uris: [],
          profile: 'tls-server',
          subjectPublicKeySpki: nextSubject().spki,
          subjectKeyAlgorithm: setup.keyAlgorithm,
          notBefore,
          notAfter,
        }),
    },
    {
      name: 'rawVerifySign',
      run: () => {
        const subject = nextSubject();
        if (!verify(hash, subject.signedData, { key: subject.publicKeyObject, dsaEncoding: 'der' }, subject.signature)) throw new Error('bad signature');
        return sign(hash, tbs, signingKey);
      },
    },
    {
      name: 'rawImportVerifySign',
      run: () => {
        const subject = nextSubject();
        const key = createPublicKey({ key: Buffer.from(subject.spki), format: 'der', type: 'spki' });
        if (!verify(hash, subject.signedData, { key, dsaEncoding: 'der' }, subject.signature)) throw new Error('bad signature');
        return sign(hash, tbs, signingKey);
      },
    },
    {
      name: 'full',
      run: () =>
        issueFromRequest(deps, { key: { csrPem: nextSubject().csrPem }, profile: 'tls-server', validitySeconds: VALIDITY_SECONDS, teamPolicy: BENCH_POLICY }),
    },
    { name: 'readCsr', run: () => readCsr(nextSubject().csrPem) },
    {
      name: 'rawJwkImportVerifySign',
      run: () => {
        const subject = nextSubject();
        const key = createPublicKey({ key: subject.jwk, format: 'jwk' });
        if (!verify(hash, subject.signedData, { key, dsaEncoding: 'der' }, subject.signature)) throw new Error('bad signature');
        return sign(hash, tbs, signingKey);
      },
    },
    // As the full path runs them: readCsr has imported the key already and hands its KeyObject on.
    {
      name: 'keyChecks',
      run: () => {
        const subject = nextSubject();
        return checkSubjectPublicKey(subject.spki, { profile: 'tls-server', publicKey: subject.publicKeyObject });
      },
    },
  ];
  // The pool's RSA keys come back every few operations, so the full path above finds their RSA
  // checks (small factors, ROCA, Fermat) in the verdict cache, as a renewal of the same key does; a
  // key never seen before pays for them, as here, where the cache is emptied before every issuance.
  if (setup.keyAlgorithm.startsWith('RSA')) {
    operations.push({
      name: 'fullUncached',
      run: () => {
        rsaCheckedKeys.clear();
        return issueFromRequest(deps, { key: { csrPem: nextSubject().csrPem }, profile: 'tls-server', validitySeconds: VALIDITY_SECONDS, teamPolicy: BENCH_POLICY });
      },
    });
  }
  const rates = await measureRounds(operations);
  // The reference builder in rounds of its own, with raw sign again for its ratio: the garbage of a
  // pkijs certificate (~3 ms of objects each) made the full path's slices measured beside it ~10 %
  // slower, a cost of the comparison, not of issuance.
  const referenceRates = await measureRounds([
    { name: 'rawSign', run: () => sign(hash, tbs, signingKey) },
    {
        name: 'reference',
        run: () =>
          buildLeafCertificate(setup.issuer, {
            serial: randomSerial(),
            commonName,
            dnsNames,
            ipAddresses: [],
            uris: [],
            profile: 'tls-server',
            subjectPublicKey: nextSubject().publicKey,
            subjectKeyAlgorithm: setup.keyAlgorithm,
            issuedAt: ISSUED_AT,
            validitySeconds: VALIDITY_SECONDS,
          }),
      },
  ]);
  for (const [name, perRound] of referenceRates) rates.set(name === 'rawSign' ? 'rawSignBesideReference' : name, perRound);
  const of = (name: string) => rates.get(name)!;
  // What the full path would cost if the key checks cost nothing: 1 / (1/full − 1/keyChecks), per round.
  const fullWithoutKeyChecks = of('full').map((full, round) => 1 / (1 / full - 1 / of('keyChecks')[round]!));

  const rawSign = { label: 'raw sign', rates: of('rawSign') };
  const rawVerifySign = { label: 'raw verify+sign', rates: of('rawVerifySign') };
  const rawImportVerifySign = { label: 'raw import+verify+sign', rates: of('rawImportVerifySign') };
  return [
    { label: 'raw sign (400-byte TBS)', rates: of('rawSign') },
    { label: 'Certflow build + sign (known public key)', rates: of('build'), versus: { ...rawSign, target: TARGETS.buildAndSign } },
    { label: '@peculiar/x509 reference builder (test/support/reference-leaf.ts)', rates: of('reference'), versus: { label: 'raw sign', rates: of('rawSignBesideReference') } },
    { label: 'raw verify + sign (KeyObject ready)', rates: of('rawVerifySign') },
    { label: 'raw import SPKI DER + verify + sign', rates: of('rawImportVerifySign'), versus: rawVerifySign },
    { label: 'raw import JWK + verify + sign (the ceiling)', rates: of('rawJwkImportVerifySign'), versus: rawVerifySign },
    { label: 'Certflow full from PEM CSR', rates: of('full'), versus: { ...rawVerifySign, target: TARGETS.fullFromCsr } },
    { label: '  the same', rates: of('full'), versus: rawImportVerifySign },
    { label: '  step alone: readCsr (parse + import + verify)', rates: of('readCsr') },
    { label: '  step alone: checkSubjectPublicKey, key imported', rates: of('keyChecks') },
    { label: '  full minus key checks (derived)', rates: fullWithoutKeyChecks, versus: rawVerifySign },
    ...(rates.has('fullUncached')
      ? [{ label: '  full, a new key each time (RSA verdicts not cached)', rates: of('fullUncached'), versus: rawVerifySign }]
      : []),
  ];
}

const number = (value: number): string => Math.round(value).toLocaleString('en-US');

function formatRow(row: Row): string {
  const best = Math.max(...row.rates);
  let comparison = '';
  if (row.versus) {
    const ratio = median(row.rates.map((rate, round) => rate / row.versus!.rates[round]!));
    comparison = `${(100 * ratio).toFixed(0).padStart(4)} % of ${row.versus.label}`;
    if (row.versus.target !== undefined) comparison += `  (target ≥ ${row.versus.target * 100} %: ${ratio >= row.versus.target ? 'met' : 'MISSED'})`;
  }
  return `  ${row.label.padEnd(52)} ${number(median(row.rates)).padStart(8)} ${number(best).padStart(8)}   ${comparison}`;
}

console.log('Certflow issuance benchmark');
console.log(`  one Node.js thread (no worker_threads; node:crypto sign/verify are synchronous), ${process.env.CERTFLOW_BENCH_PINNED}`);
console.log(`  node ${process.version}, OpenSSL ${process.versions.openssl}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} CPUs on the machine`);
console.log(
  `  ops per CPU-second of this process (time given to other processes does not count): median and best of ${DEFAULT_MEASURE.rounds} rounds; each round runs every measurement for ${DEFAULT_MEASURE.sliceMs} ms in turn (after a ${DEFAULT_MEASURE.warmupMs} ms warm-up each),`,
);
console.log('  so ~2 s per measurement; ratios are medians of same-round ratios; distinct subject keys are cycled');
console.log('  note: the reference builder signs with WebCrypto, whose work runs on a libuv pool thread (pinned to the same CPU);');
console.log('  it is measured after the others, in rounds of its own with raw sign (its garbage slowed what ran beside it)');
// CERTFLOW_BENCH_ALGORITHMS=ECDSA-P256,RSA-2048 runs only those.
const selected = process.env.CERTFLOW_BENCH_ALGORITHMS?.split(',');
for (const { keyAlgorithm, poolSize } of ALGORITHMS.filter((a) => !selected || selected.includes(a.keyAlgorithm))) {
  const setup = await benchSetup(keyAlgorithm, poolSize);
  const rows = await benchAlgorithm(setup);
  console.log(`\n${keyAlgorithm} issuer, ${keyAlgorithm} subject keys (${poolSize} distinct)`);
  console.log(`  ${'measurement (ops per CPU-second)'.padEnd(52)} ${'median'.padStart(8)} ${'best'.padStart(8)}   ratio`);
  for (const row of rows) console.log(formatRow(row));
}
// Without taskset the pinned phase ran here: the ACME phase follows in this process's child.
if (process.env.CERTFLOW_BENCH_PINNED === UNPINNED) process.exitCode = acmePhase();

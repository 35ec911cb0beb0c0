/**
 * Differential fuzzing of the CSR reader (ca/csr.ts `readCsr`, over ca/der-reader.ts and
 * ca/csr-key.ts) against `openssl req -verify` and pkijs.
 *
 * Inputs: real CSRs made by openssl (RSA, P-256, P-384, Ed25519, with DNS/IP/URI SANs, and a few
 * that Certflow refuses on purpose), structurally mutated (der-mutations.ts) — either anywhere, or
 * inside certificationRequestInfo and then signed again with the CSR's own key, so the oracles get
 * past the signature and judge the structure — and arbitrary bytes and text.
 * Properties: readCsr returns or throws CsrError, nothing else, within a time bound; whenever it
 * accepts, both oracles accept; whenever it refuses what an oracle accepts, the refusal is one of
 * the allowed divergences (divergences.ts).
 */
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CsrError, readCsr } from '../../ca/csr.js';
import { makeTempDir, openssl, type TempDir } from '../unit/ca/support.js';
import { fuzzParameters, fuzzTimeout } from '../support/fuzz.js';
import { byteMutation, type ByteMutation, describeMutations, minimalLength, mutateBytes, mutateTree, readTree, treeMutation, type TreeMutation, writeTree } from './der-mutations.js';
import { compareWithOracles, CSR_DIVERGENCES, DivergenceTally, type ReaderVerdict as Ours } from './divergences.js';
import { opensslCsr, pkijsCsr, type Verdict } from './oracles.js';

/** Longest a single readCsr call may take (it takes well under a millisecond; the bound catches loops and blow-ups, with room for a loaded machine). */
const MAX_READ_MS = 1000;

const SANS = 'subjectAltName=DNS:svc.example.com,DNS:www.example.com,IP:10.0.0.1,IP:2001:db8::1,URI:spiffe://example.com/ns/a/sa/b';

interface SeedSpec {
  args: string[];
  /** The digest the CSR is signed with (null for Ed25519), to sign mutated requests again. */
  hash: string | null;
}

const SEEDS: Record<string, SeedSpec> = {
  p256: { args: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-subj', '/CN=svc.example.com/O=Example', '-addext', SANS], hash: 'sha256' },
  p384: { args: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384', '-sha384', '-subj', '/O=Example/OU=Ops/CN=db.example.com', '-addext', 'subjectAltName=DNS:db.example.com'], hash: 'sha384' },
  rsa2048: { args: ['-newkey', 'rsa:2048', '-subj', '/CN=svc.example.com', '-addext', SANS, '-addext', 'keyUsage=critical,digitalSignature'], hash: 'sha256' },
  rsa3072: { args: ['-newkey', 'rsa:3072', '-sha512', '-subj', '/emailAddress=ops@example.com/CN=mail.example.com'], hash: 'sha512' },
  ed25519: { args: ['-newkey', 'ed25519', '-subj', '/CN=client-1', '-addext', 'subjectAltName=URI:spiffe://example.com/ns/default/sa/client-1'], hash: null },
  noSubject: { args: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-subj', '/', '-addext', 'subjectAltName=DNS:svc.example.com,IP:2001:db8::1'], hash: 'sha256' },
  // Refused by Certflow on purpose (the oracles accept them): the divergence must be an allowed one.
  rsa1024: { args: ['-newkey', 'rsa:1024', '-subj', '/CN=svc.example.com'], hash: 'sha256' },
  p256sha1: { args: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-sha1', '-subj', '/CN=svc.example.com'], hash: 'sha1' },
  secp256k1: { args: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:secp256k1', '-subj', '/CN=svc.example.com'], hash: 'sha256' },
};

interface Seed {
  name: string;
  der: Buffer;
  key: KeyObject;
  hash: string | null;
}

let dir: TempDir;
const seeds: Seed[] = [];

beforeAll(async () => {
  dir = await makeTempDir('fuzz-csr');
  for (const [name, spec] of Object.entries(SEEDS)) {
    const result = await openssl(['req', '-new', '-nodes', ...spec.args, '-keyout', `${name}.key`, '-outform', 'DER', '-out', `${name}.der`], dir.path);
    if (result.code !== 0) throw new Error(`openssl req for ${name} failed: ${result.stderr}`);
    const [der, key] = await Promise.all([readFile(join(dir.path, `${name}.der`)), readFile(join(dir.path, `${name}.key`), 'utf8')]);
    seeds.push({ name, der, key: createPrivateKey(key), hash: spec.hash });
  }
}, 120_000);
afterAll(() => dir?.remove());

/** readCsr's verdict; anything but a CsrError, or a slow answer, fails the property. */
function ours(input: string | Buffer): Ours {
  const started = performance.now();
  try {
    readCsr(input);
    return { accepted: true, detail: 'accepted' };
  } catch (error) {
    if (!(error instanceof CsrError)) throw new Error(`readCsr threw ${(error as Error)?.name}: ${(error as Error)?.message}`, { cause: error });
    return { accepted: false, detail: error.message };
  } finally {
    const elapsed = performance.now() - started;
    if (elapsed > MAX_READ_MS) throw new Error(`readCsr took ${elapsed.toFixed(0)} ms (bound ${MAX_READ_MS} ms)`);
  }
}

/** The certificationRequestInfo of `seed` mutated, signed again with the seed's key. */
function resigned(seed: Seed, mutate: (info: Buffer) => Buffer): Buffer {
  const root = readTree(seed.der);
  const info = mutate(writeTree(root.children![0]!));
  const signature = sign(seed.hash, info, seed.key);
  const algorithm = writeTree(root.children![1]!);
  const bits = Buffer.concat([Buffer.from([0x03]), minimalLength(signature.length + 1), Buffer.from([0]), signature]);
  const body = Buffer.concat([info, algorithm, bits]);
  return Buffer.concat([Buffer.from([0x30]), minimalLength(body.length), body]);
}

const mutationCase = fc.record({
  seed: fc.nat(),
  resign: fc.boolean(),
  tree: fc.array(treeMutation, { maxLength: 2 }),
  bytes: fc.array(byteMutation, { maxLength: 2 }),
});

function buildCase(input: { seed: number; resign: boolean; tree: TreeMutation[]; bytes: ByteMutation[] }): { seed: Seed; der: Buffer; label: string } {
  const seed = seeds[input.seed % seeds.length]!;
  const label = `${seed.name} ${input.resign ? 'resigned ' : ''}${describeMutations(input.tree, input.bytes)}`;
  if (input.resign) {
    const der = resigned(seed, (info) => mutateBytes(writeTree(mutateTree(readTree(info), input.tree)), input.bytes));
    return { seed, der, label };
  }
  return { seed, der: mutateBytes(writeTree(mutateTree(readTree(seed.der), input.tree)), input.bytes), label };
}

const tally = new DivergenceTally();
afterAll(() => tally.print('CSR reader vs oracles (outcomes per oracle)'));

const compare = (label: string, der: Buffer, mine: Ours, oracles: Record<string, Verdict>) =>
  compareWithOracles({ reader: 'readCsr', rules: CSR_DIVERGENCES, tally }, label, der, mine, oracles);

describe('fuzz: readCsr against openssl and pkijs', () => {
  it('ok/the seeds: Certflow accepts the supported ones, refuses the others, and agrees with the oracles', async () => {
    const verdicts = Object.fromEntries(seeds.map((seed) => [seed.name, ours(seed.der).accepted]));
    expect(verdicts).toEqual({ p256: true, p384: true, rsa2048: true, rsa3072: true, ed25519: true, noSubject: true, rsa1024: false, p256sha1: false, secp256k1: false });
    for (const seed of seeds) {
      const oracles = { openssl: await opensslCsr(seed.der), pkijs: await pkijsCsr(seed.der) };
      // pkijs knows no secp256k1; every other seed is a valid CSR for both oracles.
      expect(oracles.openssl.accepted && (oracles.pkijs.accepted || seed.name === 'secp256k1'), `${seed.name}: ${JSON.stringify(oracles)}`).toBe(true);
      compare(seed.name, seed.der, ours(seed.der), oracles);
    }
  });

  it(
    'ok/mutated CSRs: same verdict as openssl and pkijs, or an allowed divergence',
    async () => {
      await fc.assert(
        fc.asyncProperty(mutationCase, async (input) => {
          const { der, label } = buildCase(input);
          const mine = ours(der);
          compare(label, der, mine, { openssl: await opensslCsr(der), pkijs: await pkijsCsr(der) });
        }),
        fuzzParameters('readCsr: mutated CSRs vs openssl + pkijs', 1500),
      );
    },
    fuzzTimeout(90_000),
  );

  it(
    'ok/arbitrary bytes: never accepted, never anything but a CsrError',
    async () => {
      const bytes = fc.oneof(
        fc.uint8Array({ maxLength: 512 }),
        // A plausible outer SEQUENCE header, so the reader gets past the first element.
        fc.tuple(fc.integer({ min: 0x80, max: 0x84 }), fc.uint8Array({ maxLength: 512 })).map(([length, rest]) => Buffer.concat([Buffer.from([0x30, length]), rest])),
      );
      await fc.assert(
        fc.asyncProperty(bytes, async (raw) => {
          const der = Buffer.from(raw);
          const mine = ours(der);
          compare('arbitrary bytes', der, mine, { openssl: await opensslCsr(der), pkijs: await pkijsCsr(der) });
        }),
        fuzzParameters('readCsr: arbitrary bytes vs openssl + pkijs', 400),
      );
    },
    fuzzTimeout(60_000),
  );

  it(
    'ok/PEM text: arbitrary strings give a CsrError; a seed re-wrapped with other line breaks and spaces reads as its DER does',
    () => {
      const pemOf = (der: Buffer, breaks: number[]) => {
        let body = der.toString('base64');
        for (const at of breaks) body = `${body.slice(0, at % (body.length + 1))}${at % 3 === 0 ? '\n' : at % 3 === 1 ? ' ' : '\r\n'}${body.slice(at % (body.length + 1))}`;
        return `-----BEGIN CERTIFICATE REQUEST-----\n${body}\n-----END CERTIFICATE REQUEST-----\n`;
      };
      fc.assert(
        fc.property(fc.nat(), fc.array(fc.nat(), { maxLength: 20 }), fc.string({ maxLength: 200, unit: 'binary' }), (pick, breaks, junk) => {
          const seed = seeds[pick % seeds.length]!;
          expect(ours(pemOf(seed.der, breaks))).toEqual(ours(seed.der));
          expect(ours(junk).accepted).toBe(false);
          expect(ours(`-----BEGIN CERTIFICATE REQUEST-----\n${junk}\n-----END CERTIFICATE REQUEST-----`).accepted).toBe(false);
        }),
        fuzzParameters('readCsr: PEM wrapping and arbitrary text', 500),
      );
    },
    fuzzTimeout(30_000),
  );
});

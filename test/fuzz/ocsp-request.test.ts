/**
 * Differential fuzzing of the OCSP request parser (ca/ocsp.ts `parseOcspRequest`, what
 * POST/GET /pki/ocsp run on every unauthenticated request) against `openssl ocsp -reqin` and pkijs.
 *
 * Inputs: requests made by openssl (SHA-1 and SHA-256 CertIDs, one or several, with and without a
 * nonce, signed with a requestorName), by pkijs, and by Certflow's own encoder (version, extensions),
 * structurally mutated (der-mutations.ts), and arbitrary bytes.
 * Properties: parseOcspRequest returns or throws OcspRequestError, nothing else, within a time bound;
 * whenever it accepts, both oracles accept; whenever it refuses what both accept, the refusal is one
 * of the allowed divergences (divergences.ts).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import * as pkijs from 'pkijs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contextExplicit, contextPrimitive, extension, octetString, sequence, smallInteger } from '../../ca/der-writer.js';
import { encodeCertId, issuerHashes, OCSP_OIDS, OcspRequestError, parseOcspRequest } from '../../ca/ocsp.js';
import { makeTempDir, openssl, type TempDir } from '../unit/ca/support.js';
import { fuzzParameters, fuzzTimeout } from '../support/fuzz.js';
import { byteMutation, describeMutations, mutateBytes, mutateTree, readTree, treeMutation, writeTree } from './der-mutations.js';
import { compareWithOracles, DivergenceTally, OCSP_DIVERGENCES, type ReaderVerdict } from './divergences.js';
import { opensslOcspRequest, pkijsOcspRequest } from './oracles.js';

const MAX_PARSE_MS = 1000;

let dir: TempDir;
const seeds: { name: string; der: Buffer }[] = [];

beforeAll(async () => {
  dir = await makeTempDir('fuzz-ocsp');
  const run = async (args: string[]) => {
    const result = await openssl(args, dir.path);
    if (result.code !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${result.stderr}`);
  };
  await run(['req', '-x509', '-new', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-subj', '/CN=Fuzz CA', '-days', '30', '-keyout', 'ca.key', '-out', 'ca.pem']);
  const requests: Record<string, string[]> = {
    sha1Nonce: ['-serial', '0x1234'],
    sha1NoNonce: ['-serial', '0x01', '-no_nonce'],
    sha256TwoSerials: ['-sha256', '-serial', '0x5f3a9c', '-serial', '0x00ff', '-no_nonce'],
    // Signed, without the signer's certificate: Certflow checks a certificate in certs for its layout only (ca/ocsp.ts).
    signed: ['-serial', '0x42', '-signer', 'ca.pem', '-signkey', 'ca.key', '-no_certs'],
  };
  for (const [name, args] of Object.entries(requests)) {
    await run(['ocsp', '-issuer', 'ca.pem', ...args, '-reqout', `${name}.der`]);
    seeds.push({ name, der: await readFile(join(dir.path, `${name}.der`)) });
  }
  const caPem = await readFile(join(dir.path, 'ca.pem'), 'utf8');
  const hashes = issuerHashes(caPem);
  const certId = encodeCertId('sha256', hashes, '7a');
  const nonce = extension(OCSP_OIDS.nonce, false, octetString(Buffer.alloc(16, 9)));
  // Certflow's encoder: an explicit version, a requestorName, two extensions (one unknown, not critical).
  seeds.push({
    name: 'certflowEncoded',
    der: sequence(
      sequence(
        contextExplicit(0, smallInteger(0)),
        contextExplicit(1, contextPrimitive(2, Buffer.from('client.example.com'))),
        sequence(sequence(certId)),
        contextExplicit(2, sequence(nonce, extension('1.2.3.4', false, octetString(Buffer.from('x'))))),
      ),
    ),
  });
  const pkiRequest = new pkijs.OCSPRequest();
  const caDer = Buffer.from(caPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  const leafLike = pkijs.Certificate.fromBER(caDer);
  await pkiRequest.createForCertificate(leafLike, { hashAlgorithm: 'SHA-256', issuerCertificate: pkijs.Certificate.fromBER(caDer) });
  seeds.push({ name: 'pkijs', der: Buffer.from(pkiRequest.toSchema(true).toBER()) });
}, 60_000);
afterAll(() => dir?.remove());

/** parseOcspRequest's verdict; anything but an OcspRequestError, or a slow answer, fails the property. */
function ours(der: Buffer): ReaderVerdict {
  const started = performance.now();
  try {
    parseOcspRequest(der);
    return { accepted: true, detail: 'accepted' };
  } catch (error) {
    if (!(error instanceof OcspRequestError)) throw new Error(`parseOcspRequest threw ${(error as Error)?.name}: ${(error as Error)?.message}`, { cause: error });
    return { accepted: false, detail: error.message };
  } finally {
    const elapsed = performance.now() - started;
    if (elapsed > MAX_PARSE_MS) throw new Error(`parseOcspRequest took ${elapsed.toFixed(0)} ms (bound ${MAX_PARSE_MS} ms)`);
  }
}

const tally = new DivergenceTally();
afterAll(() => tally.print('OCSP request parser vs oracles'));

async function compare(label: string, der: Buffer): Promise<void> {
  const oracles = { openssl: await opensslOcspRequest(der), pkijs: pkijsOcspRequest(der) };
  compareWithOracles({ reader: 'parseOcspRequest', rules: OCSP_DIVERGENCES, tally }, label, der, ours(der), oracles);
}

describe('fuzz: parseOcspRequest against openssl and pkijs', () => {
  it('ok/the seeds: everyone accepts them', async () => {
    for (const seed of seeds) {
      expect(ours(seed.der), seed.name).toEqual({ accepted: true, detail: 'accepted' });
      expect((await opensslOcspRequest(seed.der)).accepted, seed.name).toBe(true);
      expect(pkijsOcspRequest(seed.der).accepted, seed.name).toBe(true);
    }
  });

  it(
    'ok/mutated requests: same verdict as openssl and pkijs, or an allowed divergence',
    async () => {
      const mutationCase = fc.record({ seed: fc.nat(), tree: fc.array(treeMutation, { maxLength: 3 }), bytes: fc.array(byteMutation, { maxLength: 2 }) });
      await fc.assert(
        fc.asyncProperty(mutationCase, async (input) => {
          const seed = seeds[input.seed % seeds.length]!;
          const der = mutateBytes(writeTree(mutateTree(readTree(seed.der), input.tree)), input.bytes);
          await compare(`${seed.name} ${describeMutations(input.tree, input.bytes)}`, der);
        }),
        fuzzParameters('parseOcspRequest: mutated requests vs openssl + pkijs', 1500),
      );
    },
    fuzzTimeout(90_000),
  );

  it(
    'ok/arbitrary bytes: never anything but an OcspRequestError',
    async () => {
      const bytes = fc.oneof(
        fc.uint8Array({ maxLength: 300 }),
        fc.tuple(fc.integer({ min: 0, max: 0x84 }), fc.uint8Array({ maxLength: 300 })).map(([length, rest]) => Buffer.concat([Buffer.from([0x30, length]), rest])),
      );
      await fc.assert(
        fc.asyncProperty(bytes, async (raw) => compare('arbitrary bytes', Buffer.from(raw))),
        fuzzParameters('parseOcspRequest: arbitrary bytes vs openssl + pkijs', 400),
      );
    },
    fuzzTimeout(60_000),
  );
});

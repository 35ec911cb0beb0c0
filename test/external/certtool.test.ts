/**
 * GnuTLS `certtool --verify --verify-profile medium` accepts the chain (leaf + intermediate) of every profile ×
 * leaf key algorithm × CA hierarchy against its root, with hostname and purpose checks; and refuses it against
 * an impostor root, for the wrong purpose and for a hostname not in the SAN.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Profile } from '../../core/types.js';
import { OID } from '../../ca/profiles.js';
import { buildLeafSamples, leafSampleSpecs, SAMPLE_HOSTNAME, type LeafSamples } from '../support/leaf-samples.js';
import { runTool, type ToolResult } from './run.js';

const certtool = inject('certtoolPath');

/** The purposes (EKU OIDs) a leaf of each profile must be valid for. */
const PURPOSES: Record<Profile, string[]> = {
  'tls-server': [OID.serverAuth],
  'tls-client': [OID.clientAuth],
  mtls: [OID.serverAuth, OID.clientAuth],
};
const VERIFIED = /^Chain verification output: Verified\. The certificate is trusted\.\s*$/m;

let samples: LeafSamples;

beforeAll(async () => {
  samples = await buildLeafSamples();
}, 300_000);
afterAll(() => samples?.remove());

interface VerifyOptions {
  root: string;
  chain: string;
  hostname?: string;
  purpose?: string;
}

function verify({ root, chain, hostname, purpose }: VerifyOptions): Promise<ToolResult> {
  return runTool(certtool, [
    '--verify',
    '--verify-profile',
    'medium',
    '--load-ca-certificate',
    root,
    '--infile',
    chain,
    ...(hostname ? ['--verify-hostname', hostname] : []),
    ...(purpose ? ['--verify-purpose', purpose] : []),
  ]);
}

function expectVerified(result: ToolResult): void {
  expect(result.stdout + result.stderr, 'certtool output').toMatch(VERIFIED);
  expect(result.code).toBe(0);
}

function expectRefused(result: ToolResult, reason: RegExp): void {
  expect(result.code).not.toBe(0);
  expect(result.stdout).toMatch(/^Chain verification output: Not verified\./m);
  expect(result.stdout).toMatch(reason);
}

describe('certtool --verify --verify-profile medium', () => {
  it('covers every profile × leaf key algorithm under every hierarchy', () => {
    // 16 profile/key combinations (Ed25519 only for tls-client) + one empty-subject leaf per profile, per hierarchy.
    expect(samples.leaves.map((l) => l.id)).toEqual(leafSampleSpecs().map((s) => s.id));
    expect(samples.leaves).toHaveLength((16 + 3) * 2);
  });

  it.each(leafSampleSpecs())('ok/$id', async ({ id }) => {
    const leaf = samples.leaf(id);
    // The plain chain check first, then each purpose of the profile (servers with each DNS name and IP).
    expectVerified(await verify({ root: leaf.rootPath, chain: leaf.chainPath }));
    for (const purpose of PURPOSES[leaf.profile]) {
      if (purpose === OID.serverAuth) {
        for (const hostname of [...leaf.dnsNames.map((n) => n.replace(/^\*\./, 'api.')), ...leaf.ipAddresses]) {
          expectVerified(await verify({ root: leaf.rootPath, chain: leaf.chainPath, hostname, purpose }));
        }
      } else {
        expectVerified(await verify({ root: leaf.rootPath, chain: leaf.chainPath, purpose }));
      }
    }
  });

  it('fail/an impostor root (same subject, other key) does not verify the chain', async () => {
    for (const leaf of samples.leaves.filter((l) => l.hierarchy === 'ec')) {
      expectRefused(await verify({ root: samples.impostorRootPath, chain: leaf.chainPath }), /NOT trusted/);
    }
  });

  it('fail/a root of another hierarchy does not verify the chain', async () => {
    const leaf = samples.leaves.find((l) => l.hierarchy === 'ec')!;
    const otherRoot = samples.cas.find((c) => c.kind === 'root' && c.hierarchy !== 'ec')!.pemPath;
    expectRefused(await verify({ root: otherRoot, chain: leaf.chainPath }), /NOT trusted/);
  });

  it('fail/a tls-server leaf is not valid for client authentication', async () => {
    const leaf = samples.leaves.find((l) => l.profile === 'tls-server')!;
    expectRefused(await verify({ root: leaf.rootPath, chain: leaf.chainPath, purpose: OID.clientAuth }), /does not match the intended purpose/);
  });

  it('fail/a tls-client leaf is not valid for server authentication', async () => {
    const leaf = samples.leaves.find((l) => l.profile === 'tls-client')!;
    expectRefused(
      await verify({ root: leaf.rootPath, chain: leaf.chainPath, purpose: OID.serverAuth, hostname: SAMPLE_HOSTNAME }),
      /does not match the intended purpose/,
    );
  });

  it('fail/a hostname outside the SAN, and a wildcard two labels deep, are refused', async () => {
    const leaf = samples.leaves.find((l) => l.profile === 'tls-server')!;
    for (const hostname of ['other.example.com', `a.b.${SAMPLE_HOSTNAME}`, '10.0.0.2']) {
      expectRefused(
        await verify({ root: leaf.rootPath, chain: leaf.chainPath, hostname, purpose: OID.serverAuth }),
        /does not match the expected/,
      );
    }
  });
});

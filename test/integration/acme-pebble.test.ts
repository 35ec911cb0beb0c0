/**
 * The ACME conformance cases (test/support/acme-conformance.ts) against pebble, with EAB required and
 * pebble-challtestsrv as the DNS its validator resolves names with: all clients against Debian's pebble 2.4
 * (no ARI), and the ARI-aware clients against pebble 2.10 (ARI). Pebble is the reference: a case that fails
 * here is wrong about the clients, not about Certflow.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, inject } from 'vitest';
import type { AcmeTools } from '../../scripts/acme-tools.js';
import { acmeConformanceCases, type AcmeTarget } from '../support/acme-conformance.js';
import { startChalltestsrv, type Challtestsrv } from '../support/challtestsrv.js';
import { startPebble, type Pebble } from '../support/pebble.js';

/** Registers hooks that start challtestsrv and the chosen pebble and fill in the returned target. */
function usePebbleTarget(which: (tools: AcmeTools) => string, label: string): AcmeTarget {
  let challtestsrv: Challtestsrv | undefined;
  let pebble: Pebble | undefined;
  const target = {} as AcmeTarget;

  beforeAll(async () => {
    const tools = inject('acmeTools');
    if (!tools) throw new Error(`ACME tools missing: ${inject('acmeToolsError')}`);
    const dir = await fs.mkdtemp(path.join(inject('tempDir'), `acme-${label}-`));
    challtestsrv = await startChalltestsrv({ binary: tools.pebbleChalltestsrv });
    pebble = await startPebble({ binary: which(tools), dir: path.join(dir, 'pebble'), dnsServer: challtestsrv.dnsAddress, eab: 'required' });
    const server = pebble;
    const run = path.basename(dir).replace(/[^a-z0-9]/gi, '').toLowerCase().slice(-6);
    let names = 0;
    Object.assign(target, {
      server: { directoryUrl: server.directoryUrl, caBundlePath: server.caBundlePath },
      tools,
      rootPem: () => server.rootPem(),
      eab: () => server.eab(),
      domain: (name: string) => `${name}-${run}-${++names}.example.test`,
      challtestsrv,
      httpPort: server.httpPort,
      workDir: (name: string) => fs.mkdtemp(path.join(dir, `${name}-`)),
      revocationStatus: async (serialHex: string) => {
        const status = await server.certStatus(serialHex);
        return { revoked: status.status === 'Revoked', reason: status.reason };
      },
      makeRenewalDue: (certPem: string) => server.makeRenewalDue(certPem),
    } satisfies AcmeTarget);
  });

  afterAll(async () => {
    await pebble?.stop();
    await challtestsrv?.stop();
  });
  return target;
}

describe("Debian's pebble 2.4 (no ARI)", () => {
  const target = usePebbleTarget((tools) => tools.pebble, 'pebble');
  acmeConformanceCases(() => target, { ari: false });
});

describe('pebble 2.10 (ARI)', () => {
  const target = usePebbleTarget((tools) => tools.pebbleAri, 'pebble-ari');
  acmeConformanceCases(() => target, { ari: true, clients: ['certbotAri', 'certManager'] });
});

/**
 * The ACME conformance cases (test/support/acme-conformance.ts) against Debian's pebble 2.4, with EAB
 * required and pebble-challtestsrv as the DNS its validator resolves names with. Pebble is the reference:
 * a case that fails here is wrong about the clients, not about Certflow. Pebble 2.4 has no ARI.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, inject } from 'vitest';
import { acmeConformanceCases, type AcmeTarget } from '../support/acme-conformance.js';
import { startChalltestsrv, type Challtestsrv } from '../support/challtestsrv.js';
import { startPebble, type Pebble } from '../support/pebble.js';

let challtestsrv: Challtestsrv | undefined;
let pebble: Pebble | undefined;
const target = {} as AcmeTarget;

beforeAll(async () => {
  const tools = inject('acmeTools');
  if (!tools) throw new Error(`ACME tools missing: ${inject('acmeToolsError')}`);
  const dir = await fs.mkdtemp(path.join(inject('tempDir'), 'acme-pebble-'));
  challtestsrv = await startChalltestsrv({ binary: tools.pebbleChalltestsrv });
  pebble = await startPebble({ binary: tools.pebble, dir: path.join(dir, 'pebble'), dnsServer: challtestsrv.dnsAddress, eab: 'required' });
  const server = pebble;
  const run = path.basename(dir).replace(/[^a-z0-9]/gi, '').toLowerCase().slice(-6);
  let names = 0;
  Object.assign(target, {
    server: { directoryUrl: server.directoryUrl, caBundlePath: server.caBundlePath },
    tools,
    rootPem: () => server.rootPem(),
    eab: () => server.eab(),
    domain: (label: string) => `${label}-${run}-${++names}.example.test`,
    challtestsrv,
    httpPort: server.httpPort,
    workDir: (label: string) => fs.mkdtemp(path.join(dir, `${label}-`)),
    revocationStatus: async (serialHex: string) => {
      const status = await server.certStatus(serialHex);
      return { revoked: status.status === 'Revoked', reason: status.reason };
    },
  } satisfies AcmeTarget);
});

afterAll(async () => {
  await pebble?.stop();
  await challtestsrv?.stop();
});

acmeConformanceCases(() => target, { ari: false });

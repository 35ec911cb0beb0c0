/**
 * Certflow's ACME listener for integration tests: the harness's services, a real HTTPS listener on
 * 127.0.0.1 with a certificate Certflow issued for localhost and 127.0.0.1 (so the in-process worker
 * must run), and the roots clients trust written to a file.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inject } from 'vitest';
import { acmeRoot } from '../../api/acme/app.js';
import type { AcmeDeps } from '../../api/acme/context.js';
import { EabSecret } from '../../api/acme/eab.js';
import { startAcmeListener } from '../../api/acme/listener.js';
import { acmeServerCertificate } from '../../api/acme/server-certificate.js';
import { createApp } from '../../api/app.js';
import type { Harness } from './harness.js';

export interface TestAcmeServer {
  deps: AcmeDeps;
  /** The REST API with ACME configured (EAB keys can be made). */
  app: ReturnType<typeof createApp>;
  baseUrl: string;
  directoryUrl: string;
  /** PEM file of the roots the listener's certificate (and every issued one) chains to. */
  rootsFile: string;
  stop(): Promise<void>;
}

export async function startTestAcmeServer(harness: Harness, options: { allowUnboundAccounts?: boolean } = {}): Promise<TestAcmeServer> {
  const directory = await mkdtemp(join(inject('tempDir'), 'acme-'));
  const deps: AcmeDeps = {
    ...harness.apiDeps,
    reservedNames: ['127.0.0.1'],
    acme: { eabSecret: EabSecret.fromBytes(randomBytes(32)), allowUnboundAccounts: options.allowUnboundAccounts ?? false, validitySeconds: 7 * 86_400 },
  };
  const currentTls = await acmeServerCertificate(deps, { hostnames: ['127.0.0.1'], directory: join(directory, 'tls'), log: () => undefined });
  const listener = startAcmeListener(acmeRoot(deps, (message, error) => console.error(message, error)), { host: '127.0.0.1', port: 0, currentTls, log: () => undefined });
  const baseUrl = await listener.ready;
  const roots = await (await harness.app.request('/pki/roots.pem')).text();
  const rootsFile = join(directory, 'roots.pem');
  await writeFile(rootsFile, roots);
  return { deps, app: createApp(deps), baseUrl, directoryUrl: `${baseUrl}/acme/directory`, rootsFile, stop: () => listener.stop() };
}

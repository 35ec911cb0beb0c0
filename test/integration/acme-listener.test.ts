/**
 * The ACME listener over real HTTPS, as clients meet it: a client that asks for a nonce (HEAD newNonce)
 * before every request, as acme-client does, keeps its TLS connection instead of paying a handshake each time.
 */
import { readFile } from 'node:fs/promises';
import https from 'node:https';
import { describe, expect, it } from 'vitest';
import { startTestAcmeServer, type TestAcmeServer } from '../support/acme-server.js';
import { useIntegrationSuite } from '../support/integration-suite.js';

let acme: TestAcmeServer;
const suite = useIntegrationSuite('acme-listener', { worker: true, teardown: () => acme?.stop() });

describe('ACME listener', () => {
  it('keeps the connection open across HEAD newNonce answers', { timeout: 60_000 }, async () => {
    acme = await startTestAcmeServer(suite.harness);
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: await readFile(acme.rootsFile) });
    const reused: boolean[] = [];
    for (let index = 0; index < 3; index++) {
      reused.push(
        await new Promise<boolean>((resolve, reject) => {
          const request = https.request(`${acme.baseUrl}/acme/new-nonce`, { method: 'HEAD', agent }, (response) => {
            expect(response.statusCode).toBe(200);
            expect(response.headers['replay-nonce']).toBeTruthy();
            response.resume();
            response.on('end', () => resolve(request.reusedSocket));
          });
          request.on('error', reject);
          request.end();
        }),
      );
    }
    agent.destroy();
    expect(reused).toEqual([false, true, true]);
  });
});

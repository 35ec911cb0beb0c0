/**
 * A stand-in for a service that serves what Certflow delivered: a real node:tls server reading
 * fullchain.pem and key.pem from a file destination. While `reloading`, it picks up new files on the
 * next handshake (like a service reloaded after delivery); `freeze()` makes it keep serving what it
 * has (a service whose reload is broken).
 */
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createSecureContext, createServer, type SecureContext } from 'node:tls';

export interface TlsService {
  port: number;
  freeze(): void;
  resume(): void;
  close(): Promise<void>;
}

export async function startTlsService(directory: string): Promise<TlsService> {
  let reloading = true;
  let context: SecureContext | null = null;
  let loadedCertificate = '';

  async function currentContext(): Promise<SecureContext> {
    if (reloading || !context) {
      const [certificate, key] = await Promise.all([readFile(join(directory, 'fullchain.pem'), 'utf8'), readFile(join(directory, 'key.pem'), 'utf8')]);
      if (certificate !== loadedCertificate || !context) {
        context = createSecureContext({ cert: certificate, key });
        loadedCertificate = certificate;
      }
    }
    return context;
  }

  const server = createServer({
    SNICallback: (_name, callback) => {
      currentContext().then(
        (secureContext) => callback(null, secureContext),
        (error: Error) => callback(error),
      );
    },
  });
  // A handshake without files yet fails; the prober retries.
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    freeze: () => {
      reloading = false;
    },
    resume: () => {
      reloading = true;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

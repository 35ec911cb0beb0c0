import net from 'node:net';

/**
 * Asks the OS for a currently free TCP port on 127.0.0.1. The port is released before returning, so another
 * process could grab it before the caller binds it; good enough for local dev and test servers.
 */
export async function findFreePort(): Promise<number> {
  return await new Promise<number>((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error(`unexpected server address: ${String(address)}`));
      });
    });
  });
}

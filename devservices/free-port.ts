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

/**
 * A free TCP port on 127.0.0.1 in [min, max], tried at random. For ports that must stay below the OS's ephemeral
 * range: the Temporal server stores its membership ports in a Postgres smallint (at most 32767).
 */
export async function findFreePortInRange(min: number, max: number): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = min + Math.floor(Math.random() * (max - min + 1));
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.unref();
      server.once('error', () => resolve(false));
      server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free port found in ${min}-${max} after 100 tries`);
}

import { describe, expect, it } from 'vitest';
import { DestinationGuard, DestinationRefused } from '../../../activities/destination-guard.js';
import type { DestinationHostPolicy } from '../../../core/destination-hosts.js';

const POLICY: DestinationHostPolicy = { zones: ['example.test'], cidrs: ['10.0.0.0/8'], ports: [] };
const RULES = { services: [{ name: 'Postgres', host: 'db.internal', port: 5432 }], allowedExceptions: [], extraDenied: [] };

describe('DestinationGuard and the platform services it knows by name', () => {
  it('fail/refuses (retryably) while a platform service name does not resolve, then knows it once it does', async () => {
    let dbResolves = false;
    const guard = new DestinationGuard(RULES, async (name) => {
      if (name === 'db.internal') {
        if (!dbResolves) throw Object.assign(new Error('temporary failure'), { code: 'EAI_AGAIN' });
        return ['10.0.0.5'];
      }
      return ['10.0.0.5'];
    });
    const first = await guard.admit(POLICY, 'hook.example.test', 5432).catch((error: unknown) => error);
    expect(first).toBeInstanceOf(Error);
    expect(first).not.toBeInstanceOf(DestinationRefused);
    expect((first as Error).message).toMatch(/cannot tell destinations apart from the platform's own services: EAI_AGAIN/);

    // The failure is not cached: once the name resolves, the service's address is denied.
    dbResolves = true;
    await expect(guard.admit(POLICY, 'hook.example.test', 5432)).rejects.toBeInstanceOf(DestinationRefused);
    await expect(guard.admit(POLICY, 'hook.example.test', 8443)).resolves.toEqual(['10.0.0.5']);
  });
});

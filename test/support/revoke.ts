/** Revokes through the API as a client would: 202 at once, then the certificate shows `revoked`. */
import { expect } from 'vitest';
import { authHeaders, eventually } from './harness.js';

interface App {
  request(path: string, init?: RequestInit): Response | Promise<Response>;
}

export interface RevocationAnswer {
  state: 'revoking' | 'revoked';
  revokedAt: string | null;
  revokedSerials: string[];
}

export async function revokeAndWait(app: App, id: string, token: string, reason?: string): Promise<{ answer: RevocationAnswer; elapsedMs: number }> {
  const started = Date.now();
  const response = await app.request(`/v1/certificates/${id}/revoke`, { method: 'POST', headers: authHeaders(token), body: JSON.stringify(reason ? { reason } : {}) });
  const elapsedMs = Date.now() - started;
  expect(response.status, await response.clone().text()).toBe(202);
  const answer = (await response.json()) as RevocationAnswer;
  await eventually(
    async () => {
      const view = await app.request(`/v1/certificates/${id}`, { headers: authHeaders(token, false) });
      return ((await view.json()) as { state: string }).state === 'revoked' ? true : undefined;
    },
    { timeoutMs: 60_000, what: `${id} to be revoked` },
  );
  return { answer, elapsedMs };
}

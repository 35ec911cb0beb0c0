/**
 * A key revoked for keyCompromise is never certified again: the revocation puts its SPKI on the
 * blocklist, and the next request with the same key is refused up front, writing nothing.
 */
import { revokeAndWait } from '../support/revoke.js';
import { execFileSync } from 'node:child_process';
import { count } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { certificates } from '../../db/schema.js';
import { authHeaders } from '../support/harness.js';
import { useIntegrationSuite } from '../support/integration-suite.js';

const suite = useIntegrationSuite('blocklist', { worker: true, team: true });

function csrFor(name: string, keyFile: string, newKey: boolean): string {
  const key = newKey ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile] : ['-key', keyFile];
  return execFileSync('openssl', ['req', '-new', ...key, '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name}`], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
}

const request = (csr: string) =>
  suite.harness.app.request('/v1/certificates', { method: 'POST', headers: authHeaders(suite.team.requester), body: JSON.stringify({ team: suite.team.teamName, csr, validity: 'P1D' }) });

describe('key blocklist', () => {
  it('refuses a key whose certificate was revoked for keyCompromise', async () => {
    const keyFile = `${suite.harness.deliveryRoot}/compromised.key`;
    const created = await request(csrFor('first.example.test', keyFile, true));
    expect(created.status).toBe(202);
    const { id } = (await created.json()) as { id: string };
    await suite.certificates.waitFor(id, (view) => view.state === 'active', { timeoutMs: 15_000, what: 'issuance' });

    // Before the compromise, the same key may be certified again (e.g. for another name).
    const sameKeyBefore = await request(csrFor('second.example.test', keyFile, false));
    expect(sameKeyBefore.status).toBe(202);

    await revokeAndWait(suite.harness.app, id, suite.team.requester, 'keyCompromise');

    const [before] = await suite.harness.db.select({ n: count() }).from(certificates);
    const refused = await request(csrFor('third.example.test', keyFile, false));
    expect(refused.status).toBe(400);
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
    expect(((await refused.json()) as { detail: string }).detail).toMatch(/blocklisted/);
    const [after] = await suite.harness.db.select({ n: count() }).from(certificates);
    expect(after!.n).toBe(before!.n);

    // A fresh key is fine.
    const fresh = await request(csrFor('third.example.test', `${suite.harness.deliveryRoot}/fresh.key`, true));
    expect(fresh.status).toBe(202);
  });
});

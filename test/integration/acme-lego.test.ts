/**
 * Debian's lego (a client nobody on the team wrote) against Certflow's ACME listener over HTTPS:
 * register with external account binding, obtain for a preauthorized team, refuse a name outside the
 * team's policy with rejectedIdentifier and sign nothing, revoke; the chain passes `openssl verify`
 * and the certificate shows in the inventory under the team with `source: "acme"`.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eq } from 'drizzle-orm';
import { describe, expect, inject, it } from 'vitest';
import { certificates, certificateVersions } from '../../db/schema.js';
import { authHeaders } from '../support/harness.js';
import { useIntegrationSuite } from '../support/integration-suite.js';
import { startTestAcmeServer, type TestAcmeServer } from '../support/acme-server.js';

const run = promisify(execFile);
let acme: TestAcmeServer;
const suite = useIntegrationSuite('acme-lego', {
  worker: true,
  team: { policy: { allowedDomains: ['lego.example.test'], acme: { preauthorized: true } } },
  teardown: () => acme?.stop(),
});

async function eabKey(): Promise<{ keyId: string; hmacKey: string }> {
  const response = await acme.app.request(`/v1/teams/${suite.team.teamId}/acme-eab-keys`, { method: 'POST', headers: authHeaders(suite.team.admin) });
  expect(response.status).toBe(201);
  return (await response.json()) as { keyId: string; hmacKey: string };
}

async function lego(dir: string, eab: { keyId: string; hmacKey: string }, args: string[]): Promise<{ code: number; output: string }> {
  const base = ['--server', acme.directoryUrl, '--accept-tos', '--email', 'ops@lego.example.test', '--eab', '--kid', eab.keyId, '--hmac', eab.hmacKey, '--path', dir, '--http', '--http.port', '127.0.0.1:0'];
  try {
    const { stdout, stderr } = await run('lego', [...base, ...args], { env: { ...process.env, LEGO_CA_CERTIFICATES: acme.rootsFile }, timeout: 60_000 });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? 1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

describe('ACME with lego', () => {
  it('registers with EAB, obtains a preauthorized certificate that openssl verifies, and lists it under the team', { timeout: 120_000 }, async () => {
    acme ??= await startTestAcmeServer(suite.harness);
    const dir = await mkdtemp(join(inject('tempDir'), 'lego-'));
    const result = await lego(dir, await eabKey(), ['--domains', 'www.lego.example.test', 'run']);
    expect(result.output).not.toMatch(/error/i);
    expect(result.code).toBe(0);
    const issued = join(dir, 'certificates', 'www.lego.example.test.crt');
    const pem = await readFile(issued, 'utf8');
    const parts = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)!;
    expect(parts.length).toBeGreaterThanOrEqual(2);
    const verify = await run('openssl', ['verify', '-CAfile', acme.rootsFile, '-untrusted', join(dir, 'certificates', 'www.lego.example.test.issuer.crt'), issued]);
    expect(verify.stdout).toContain(': OK');

    const fingerprint = (await run('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-in', issued])).stdout.split('=')[1]!.trim().replace(/:/g, '').toLowerCase();
    const [version] = await suite.harness.db.select().from(certificateVersions).where(eq(certificateVersions.fingerprintSha256, fingerprint));
    const [row] = await suite.harness.db.select().from(certificates).where(eq(certificates.id, version!.certificateId));
    expect(row).toMatchObject({ teamId: suite.team.teamId, source: 'acme', keySource: 'acme', dnsNames: ['www.lego.example.test'] });
    expect(row!.acmeAccountId).toMatch(/^acct_/);
  });

  it('refuses a name outside the team policy with rejectedIdentifier and signs nothing', { timeout: 120_000 }, async () => {
    acme ??= await startTestAcmeServer(suite.harness);
    const before = (await suite.harness.db.select().from(certificates).where(eq(certificates.teamId, suite.team.teamId))).length;
    const dir = await mkdtemp(join(inject('tempDir'), 'lego-'));
    const result = await lego(dir, await eabKey(), ['--domains', 'www.payments.example.test', 'run']);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('urn:ietf:params:acme:error:rejectedIdentifier');
    const after = (await suite.harness.db.select().from(certificates).where(eq(certificates.teamId, suite.team.teamId))).length;
    expect(after).toBe(before);
  });

  it('revokes through lego, and the certificate ends revoked', { timeout: 120_000 }, async () => {
    acme ??= await startTestAcmeServer(suite.harness);
    const dir = await mkdtemp(join(inject('tempDir'), 'lego-'));
    const eab = await eabKey();
    expect((await lego(dir, eab, ['--domains', 'revoke.lego.example.test', 'run'])).code).toBe(0);
    const result = await lego(dir, eab, ['--domains', 'revoke.lego.example.test', 'revoke', '--reason', '4']);
    expect(result.code, result.output).toBe(0);
    const [row] = await suite.harness.db.select().from(certificates).where(eq(certificates.dnsNames, ['revoke.lego.example.test']));
    const deadline = Date.now() + 30_000;
    let state = row!.state;
    while (state !== 'revoked' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      state = (await suite.harness.db.select().from(certificates).where(eq(certificates.id, row!.id)))[0]!.state;
    }
    expect(state).toBe('revoked');
  });
});

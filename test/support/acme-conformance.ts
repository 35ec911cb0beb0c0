/**
 * ACME conformance cases: real ACME clients nobody on the team wrote (certbot 2.1 and 5.8, lego 4.9,
 * cert-manager's forked ACME client) register with external account binding, obtain, renew and revoke
 * against a target server, and every certificate they get must chain to the target's root
 * (`openssl verify -CAfile <root> -untrusted <chain>`), carry the names asked for and match the key the
 * client holds. Written against pebble first (test/integration/acme-pebble.test.ts) so the same cases can
 * run against Certflow's ACME server:
 *
 *   const target = {} as AcmeTarget;                      // filled in by the file's beforeAll
 *   acmeConformanceCases(() => target, { ari: true });
 *
 * The cases run in order and share state within a client's describe block (obtain, then renew, then revoke).
 */
import { execFile } from 'node:child_process';
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { AcmeTools } from '../../scripts/acme-tools.js';
import {
  certbotCertonly,
  certbotRenew,
  certbotRevoke,
  certManagerOrder,
  certManagerRenewalInfo,
  certManagerRevoke,
  describeRun,
  legoRenew,
  legoRun,
  legoRevoke,
  type AcmeServerRef,
  type ChallengeSpec,
  type ClientRun,
  type EabCredential,
} from './acme-clients.js';
import type { Challtestsrv } from './challtestsrv.js';

export interface AcmeTarget {
  /** Directory URL and the CA bundle for its TLS. */
  server: AcmeServerRef;
  tools: AcmeTools;
  /** The root the target's certificates chain to, PEM. */
  rootPem(): Promise<string>;
  /** An EAB credential for a new account (one per call; a target may hand out single-use ones). */
  eab(): Promise<EabCredential> | EabCredential;
  /** A fresh DNS name the target issues for (and that challtestsrv resolves to 127.0.0.1); `label` is [a-z0-9-]. */
  domain(label: string): string;
  /** The DNS the target's validator resolves names with; dns-01 TXT records are set here. */
  challtestsrv: Challtestsrv;
  /** The port the target's validator connects to for http-01; the clients listen on 127.0.0.1 there. */
  httpPort: number;
  /** A fresh empty dir for one client's state. */
  workDir(label: string): Promise<string>;
  /** The target's own record of a certificate's revocation (serial in hex), if it has a way to ask. */
  revocationStatus?(serialHex: string): Promise<{ revoked: boolean; reason: number | null }>;
  /** With the `ari` feature: makes the target's ARI suggested window for this certificate lie in the past. */
  makeRenewalDue?(certPem: string): Promise<void>;
}

export type AcmeClientName = 'certbot' | 'lego' | 'certbotAri' | 'certManager';

export interface AcmeFeatures {
  /** The directory has renewalInfo (RFC 9773) and `makeRenewalDue` works. */
  ari: boolean;
  /** The clients whose cases run (default: all): certbot 2.1, lego 4.9, certbot 5.8, cert-manager's. */
  clients?: AcmeClientName[];
}

interface Issued {
  serial: string;
  pem: string;
  leaf: X509Certificate;
}

const CLIENT_TIMEOUT_MS = 90_000;
const CASE_TIMEOUT_MS = 150_000;

export function acmeConformanceCases(getTarget: () => AcmeTarget, features: AcmeFeatures): void {
  const t = getTarget;
  const http01 = (): ChallengeSpec => ({ type: 'http-01', port: t().httpPort });
  const dns01 = (): ChallengeSpec => ({ type: 'dns-01', managementUrl: t().challtestsrv.managementUrl, dnsResolver: t().challtestsrv.dnsAddress });
  const clients = new Set<AcmeClientName>(features.clients ?? ['certbot', 'lego', 'certbotAri', 'certManager']);

  describe.runIf(clients.has('certbot'))("certbot 2.1 (Debian's)", () => {
    let workDir = '';
    let names: string[] = [];
    let first: Issued | undefined;

    it('registers with EAB and obtains a certificate through http-01 (standalone)', async () => {
      workDir = await t().workDir('certbot');
      names = [t().domain('certbot-a'), t().domain('certbot-b')];
      const run = await certbotCertonly({
        certbot: t().tools.certbot, server: t().server, workDir, domains: names, certName: 'main',
        challenge: http01(), eab: await t().eab(), timeoutMs: CLIENT_TIMEOUT_MS,
      });
      first = await expectIssued(t(), run, names);
    }, CASE_TIMEOUT_MS);

    it('renews it (--force-renewal) into a new certificate', async () => {
      const old = required(first, 'the certbot obtain case');
      const run = await certbotRenew({ certbot: t().tools.certbot, server: t().server, workDir, certName: 'main', force: true, timeoutMs: CLIENT_TIMEOUT_MS });
      const renewed = await expectIssued(t(), run, names);
      expect(renewed.serial).not.toBe(old.serial);
      first = renewed;
    }, CASE_TIMEOUT_MS);

    it('revokes it (keyCompromise)', async () => {
      const cert = required(first, 'the certbot renew case');
      const run = await certbotRevoke({ certbot: t().tools.certbot, server: t().server, workDir, certName: 'main', reason: 1, timeoutMs: CLIENT_TIMEOUT_MS });
      expect(run.exitCode, describeRun(run)).toBe(0);
      await expectRevoked(t(), cert, 1);
    }, CASE_TIMEOUT_MS);
  });

  describe.runIf(clients.has('lego'))("lego 4.9 (Debian's)", () => {
    let workDir = '';
    let names: string[] = [];
    let eab: EabCredential | undefined;
    let first: Issued | undefined;

    it('registers with EAB and obtains a certificate through dns-01 (exec hook into challtestsrv)', async () => {
      workDir = await t().workDir('lego');
      names = [t().domain('lego')];
      eab = await t().eab();
      const run = await legoRun({ lego: t().tools.lego, server: t().server, workDir, domains: names, eab, challenge: dns01(), timeoutMs: CLIENT_TIMEOUT_MS });
      first = await expectIssued(t(), run, names);
    }, CASE_TIMEOUT_MS);

    it('renews it into a new certificate', async () => {
      const old = required(first, 'the lego obtain case');
      const run = await legoRenew({ lego: t().tools.lego, server: t().server, workDir, domains: names, eab, challenge: dns01(), timeoutMs: CLIENT_TIMEOUT_MS });
      const renewed = await expectIssued(t(), run, names);
      expect(renewed.serial).not.toBe(old.serial);
      first = renewed;
    }, CASE_TIMEOUT_MS);

    it('revokes it (superseded)', async () => {
      const cert = required(first, 'the lego renew case');
      const run = await legoRevoke({ lego: t().tools.lego, server: t().server, workDir, domains: names, eab, reason: 4, timeoutMs: CLIENT_TIMEOUT_MS });
      expect(run.exitCode, describeRun(run)).toBe(0);
      await expectRevoked(t(), cert, 4);
    }, CASE_TIMEOUT_MS);
  });

  describe.runIf(clients.has('certbotAri'))('certbot 5.8 (PyPI, ARI-aware renew)', () => {
    let workDir = '';
    let names: string[] = [];
    let first: Issued | undefined;

    it('registers with EAB and obtains a certificate through dns-01 (manual hooks into challtestsrv)', async () => {
      workDir = await t().workDir('certbot-ari');
      names = [t().domain('certbot-ari')];
      const run = await certbotCertonly({
        certbot: t().tools.certbotAri, server: t().server, workDir, domains: names, certName: 'main',
        challenge: dns01(), eab: await t().eab(), timeoutMs: CLIENT_TIMEOUT_MS,
      });
      first = await expectIssued(t(), run, names);
    }, CASE_TIMEOUT_MS);

    it('renew without --force-renewal keeps a certificate that is not due', async () => {
      const cert = required(first, 'the certbot 5.8 obtain case');
      const run = await certbotRenew({ certbot: t().tools.certbotAri, server: t().server, workDir, certName: 'main', clearAriRetryAfter: true, challenge: dns01(), timeoutMs: CLIENT_TIMEOUT_MS });
      expect(run.exitCode, describeRun(run)).toBe(0);
      expect(await currentSerial(run.certPath), describeRun(run)).toBe(cert.serial);
    }, CASE_TIMEOUT_MS);

    it.runIf(features.ari)('renew follows the ARI window: renews once the suggested window is in the past', async () => {
      const cert = required(first, 'the certbot 5.8 obtain case');
      await required(t().makeRenewalDue, 'makeRenewalDue on an ARI target')(cert.pem);
      const run = await certbotRenew({ certbot: t().tools.certbotAri, server: t().server, workDir, certName: 'main', clearAriRetryAfter: true, challenge: dns01(), timeoutMs: CLIENT_TIMEOUT_MS });
      const renewed = await expectIssued(t(), run, names);
      expect(renewed.serial).not.toBe(cert.serial);
    }, CASE_TIMEOUT_MS);
  });

  describe.runIf(clients.has('certManager'))("cert-manager's forked ACME client", () => {
    let workDir = '';
    let names: string[] = [];
    let first: Issued | undefined;
    let firstCertPath = '';

    it('account with EAB → order → http-01 → finalize → download', async () => {
      workDir = await t().workDir('certmanager');
      names = [t().domain('cm-a'), t().domain('cm-b')];
      const run = await certManagerOrder({
        binary: t().tools.certManagerAcme, server: t().server, workDir, eab: await t().eab(), domains: names,
        challenge: http01(), outDir: path.join(workDir, 'first'), timeoutMs: CLIENT_TIMEOUT_MS,
      });
      first = await expectIssued(t(), run, names);
      expect(run.result).toMatchObject({ action: 'issued', serial: BigInt(`0x${first.serial}`).toString(16) });
      firstCertPath = run.certPath;
    }, CASE_TIMEOUT_MS);

    it('orders again with the same account through dns-01', async () => {
      required(first, 'the cert-manager obtain case');
      const again = [t().domain('cm-dns')];
      const run = await certManagerOrder({
        binary: t().tools.certManagerAcme, server: t().server, workDir, domains: again,
        challenge: dns01(), outDir: path.join(workDir, 'dns'), timeoutMs: CLIENT_TIMEOUT_MS,
      });
      await expectIssued(t(), run, again);
    }, CASE_TIMEOUT_MS);

    if (features.ari) {
      it('reads the renewal info (ARI) of its certificate', async () => {
        required(first, 'the cert-manager obtain case');
        const run = await certManagerRenewalInfo({ binary: t().tools.certManagerAcme, server: t().server, workDir, certPath: firstCertPath, timeoutMs: CLIENT_TIMEOUT_MS });
        expect(run.exitCode, describeRun(run)).toBe(0);
        const window = run.result?.['suggestedWindow'] as { start: string; end: string } | undefined;
        expect(window, describeRun(run)).toBeDefined();
        expect(Date.parse(window?.start ?? '')).toBeLessThan(Date.parse(window?.end ?? ''));
      }, CASE_TIMEOUT_MS);

      it('orders a replacement (replaces = the ARI certID of the old certificate)', async () => {
        const old = required(first, 'the cert-manager obtain case');
        const run = await certManagerOrder({
          binary: t().tools.certManagerAcme, server: t().server, workDir, domains: names, challenge: http01(),
          replacesCertPath: firstCertPath, outDir: path.join(workDir, 'replacement'), timeoutMs: CLIENT_TIMEOUT_MS,
        });
        const replacement = await expectIssued(t(), run, names);
        expect(replacement.serial).not.toBe(old.serial);
        expect(run.result?.['replaces'], describeRun(run)).toEqual(expect.any(String));
      }, CASE_TIMEOUT_MS);
    } else {
      it('finds no renewalInfo in the directory and says so', async () => {
        required(first, 'the cert-manager obtain case');
        const run = await certManagerRenewalInfo({ binary: t().tools.certManagerAcme, server: t().server, workDir, certPath: firstCertPath, timeoutMs: CLIENT_TIMEOUT_MS });
        expect(run.exitCode, describeRun(run)).toBe(1);
        expect(String(run.result?.['error'])).toMatch(/does not support ARI/);
      }, CASE_TIMEOUT_MS);
    }

    it('revokes with the account key (cessationOfOperation)', async () => {
      const cert = required(first, 'the cert-manager obtain case');
      const run = await certManagerRevoke({ binary: t().tools.certManagerAcme, server: t().server, workDir, certPath: firstCertPath, reason: 5, timeoutMs: CLIENT_TIMEOUT_MS });
      expect(run.exitCode, describeRun(run)).toBe(0);
      await expectRevoked(t(), cert, 5);
    }, CASE_TIMEOUT_MS);
  });
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`needs ${what} to have passed`);
  return value;
}

/** The client succeeded and its certificate files hold a leaf for `names` that chains to the root and matches its key. */
async function expectIssued(target: AcmeTarget, run: ClientRun, names: string[]): Promise<Issued> {
  expect(run.exitCode, describeRun(run)).toBe(0);
  const [leafPem] = pemBlocks(await fs.readFile(run.certPath, 'utf8'));
  if (!leafPem) throw new Error(`no certificate in ${run.certPath}\n${describeRun(run)}`);
  const leaf = new X509Certificate(leafPem);
  expect(dnsNames(leaf)).toEqual([...names].sort());

  const keyPem = await fs.readFile(run.keyPath, 'utf8');
  const publicDer = (pem: string) => createPublicKey(createPrivateKey(pem)).export({ type: 'spki', format: 'der' }).toString('hex');
  expect(leaf.publicKey.export({ type: 'spki', format: 'der' }).toString('hex'), 'certificate and key do not match').toBe(publicDer(keyPem));

  await expectChainsToRoot(target, leafPem, run.chainPath);
  return { serial: leaf.serialNumber.toUpperCase(), pem: leafPem, leaf };
}

/** `openssl verify -CAfile <target root> -untrusted <chain> <leaf>` passes. */
async function expectChainsToRoot(target: AcmeTarget, leafPem: string, chainPath: string): Promise<void> {
  const dir = await fs.mkdtemp(path.join(path.dirname(chainPath), 'verify-'));
  try {
    const rootPath = path.join(dir, 'root.pem');
    const leafPath = path.join(dir, 'leaf.pem');
    await fs.writeFile(rootPath, await target.rootPem());
    await fs.writeFile(leafPath, leafPem);
    const { stdout } = await promisify(execFile)('openssl', ['verify', '-CAfile', rootPath, '-untrusted', chainPath, leafPath]).catch((error: { stdout?: string; stderr?: string }) => {
      throw new Error(`openssl verify failed:\n${error.stdout ?? ''}${error.stderr ?? ''}`);
    });
    expect(stdout.trim()).toBe(`${leafPath}: OK`);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

async function expectRevoked(target: AcmeTarget, cert: Issued, reason: number): Promise<void> {
  if (!target.revocationStatus) return;
  expect(await target.revocationStatus(cert.serial)).toEqual({ revoked: true, reason });
}

async function currentSerial(certPath: string): Promise<string> {
  const [pem] = pemBlocks(await fs.readFile(certPath, 'utf8'));
  return new X509Certificate(pem ?? '').serialNumber.toUpperCase();
}

function pemBlocks(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
}

function dnsNames(cert: X509Certificate): string[] {
  return (cert.subjectAltName ?? '')
    .split(', ')
    .filter((entry) => entry.startsWith('DNS:'))
    .map((entry) => entry.slice(4))
    .sort();
}

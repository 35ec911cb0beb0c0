/**
 * Runs the ACME clients of the conformance tests (scripts/acme-tools.ts installs them) as child processes
 * against an ACME server: certbot (Debian's 2.1 or PyPI's 5.8, same flags), lego 4.9 and the
 * test/acme-clients/certmanager-acme program. Each call is one client command with its state in `workDir`
 * (the caller's temp dir, one per client "installation"), and resolves, never rejects on a client failure,
 * with the exit code, output and where the client put the certificate; a client that hangs is killed after
 * `timeoutMs` so the test fails instead of the suite.
 *
 * Challenges: http-01 is answered by the client itself on 127.0.0.1:<port> (the port the server's validator
 * connects to); dns-01 through a hook (certbot's manual hooks, lego's exec provider, the Go program's
 * -challtestsrv) that sets the TXT record in pebble-challtestsrv.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';

/** What every client needs to reach the server. */
export interface AcmeServerRef {
  directoryUrl: string;
  /** PEM of the CA(s) to trust for the server's TLS. */
  caBundlePath: string;
}

export interface EabCredential {
  kid: string;
  /** base64url (no padding), as RFC 8555 servers hand it out. */
  hmacKey: string;
}

export type ChallengeSpec =
  | { type: 'http-01'; port: number }
  /** `managementUrl` of pebble-challtestsrv; `dnsResolver` (host:port) for clients that check propagation (lego). */
  | { type: 'dns-01'; managementUrl: string; dnsResolver: string };

export interface ClientRun {
  /** The command line, for messages. */
  command: string;
  exitCode: number | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  /** File whose first certificate is the leaf (lego's is the leaf followed by its issuer). */
  certPath: string;
  /** The intermediates. */
  chainPath: string;
  fullchainPath: string;
  keyPath: string;
}

/** `run` described for an assertion message: command, exit and the end of its output. */
export function describeRun(run: ClientRun): string {
  const tail = (text: string) => text.split('\n').slice(-40).join('\n');
  return `${run.command}\n=> ${run.timedOut ? 'timed out' : `exit ${run.exitCode}`}\n--- stdout\n${tail(run.stdout)}\n--- stderr\n${tail(run.stderr)}`;
}

const DEFAULT_TIMEOUT_MS = 90_000;

interface CommonOptions {
  server: AcmeServerRef;
  /** The client's state dir (created if missing). */
  workDir: string;
  timeoutMs?: number;
}

// ---------------------------------------------------------------------------------------------------------
// certbot

export interface CertbotCertonlyOptions extends CommonOptions {
  /** AcmeTools.certbot (2.1) or AcmeTools.certbotAri (5.8). */
  certbot: string;
  domains: string[];
  /** Default: the first domain. */
  certName?: string;
  challenge: ChallengeSpec;
  eab?: EabCredential;
  /** Default: --register-unsafely-without-email. */
  email?: string;
}

/** `certbot certonly`: registers an account when the config dir has none, then obtains a certificate. */
export async function certbotCertonly(opts: CertbotCertonlyOptions): Promise<ClientRun> {
  const certName = opts.certName ?? opts.domains[0] ?? '';
  const args = [
    'certonly',
    ...certbotDirs(opts.workDir),
    '--server', opts.server.directoryUrl,
    '--agree-tos',
    ...(opts.email ? ['-m', opts.email] : ['--register-unsafely-without-email']),
    ...(opts.eab ? ['--eab-kid', opts.eab.kid, '--eab-hmac-key', opts.eab.hmacKey] : []),
    '--cert-name', certName,
    ...opts.domains.flatMap((domain) => ['-d', domain]),
    ...(await certbotChallengeArgs(opts.workDir, opts.challenge)),
  ];
  return await runCertbot(opts, args, certName, opts.challenge);
}

export interface CertbotRenewOptions extends CommonOptions {
  certbot: string;
  certName: string;
  /** --force-renewal: renew whatever the certificate's remaining lifetime or ARI say. */
  force?: boolean;
  /**
   * Drops the `[acme_renewal_info]` section of the lineage's renewal conf first. certbot 5.x stores the
   * server's ARI Retry-After there (6 h when the server has no ARI) and skips the ARI check until then,
   * so a renew meant to follow the server's renewal window must clear it.
   */
  clearAriRetryAfter?: boolean;
  /** For dns-01 lineages: the challtestsrv the stored hooks talk to. */
  challenge?: ChallengeSpec;
}

/** `certbot renew --cert-name`: the authenticator and hooks come from the lineage's renewal conf. */
export async function certbotRenew(opts: CertbotRenewOptions): Promise<ClientRun> {
  if (opts.clearAriRetryAfter) await dropAriSection(path.join(opts.workDir, 'config', 'renewal', `${opts.certName}.conf`));
  const args = [
    'renew',
    ...certbotDirs(opts.workDir),
    '--server', opts.server.directoryUrl,
    '--cert-name', opts.certName,
    // Without a terminal certbot renew first sleeps up to 8 minutes at random.
    '--no-random-sleep-on-renew',
    ...(opts.force ? ['--force-renewal'] : []),
  ];
  return await runCertbot(opts, args, opts.certName, opts.challenge);
}

/** certbot's --reason choices, by RFC 5280 reason code. */
const CERTBOT_REASONS: Record<number, string> = { 0: 'unspecified', 1: 'keycompromise', 3: 'affiliationchanged', 4: 'superseded', 5: 'cessationofoperation' };

export interface CertbotRevokeOptions extends CommonOptions {
  certbot: string;
  certName: string;
  /** RFC 5280 reason code: 0, 1, 3, 4 or 5 (default 0). */
  reason?: number;
}

/** `certbot revoke --cert-name`, signed with the account key; keeps the lineage's files. */
export async function certbotRevoke(opts: CertbotRevokeOptions): Promise<ClientRun> {
  const reason = CERTBOT_REASONS[opts.reason ?? 0];
  if (!reason) throw new Error(`certbot cannot revoke with reason code ${opts.reason}`);
  const args = ['revoke', ...certbotDirs(opts.workDir), '--server', opts.server.directoryUrl, '--cert-name', opts.certName, '--reason', reason, '--no-delete-after-revoke'];
  return await runCertbot(opts, args, opts.certName);
}

function certbotDirs(workDir: string): string[] {
  return ['--non-interactive', '--config-dir', path.join(workDir, 'config'), '--work-dir', path.join(workDir, 'work'), '--logs-dir', path.join(workDir, 'logs')];
}

async function certbotChallengeArgs(workDir: string, challenge: ChallengeSpec): Promise<string[]> {
  if (challenge.type === 'http-01') {
    return ['--standalone', '--preferred-challenges', 'http', '--http-01-address', '127.0.0.1', '--http-01-port', String(challenge.port)];
  }
  const hook = await writeDnsHook(workDir);
  // certbot runs hooks through a shell, but first checks that the hook's first word (split on whitespace,
  // quotes not understood) is an executable, so the path can be neither quoted nor contain spaces.
  if (/\s/.test(hook)) throw new Error(`certbot cannot run a hook whose path has whitespace: ${hook}`);
  return ['--manual', '--preferred-challenges', 'dns', '--manual-auth-hook', `${hook} present`, '--manual-cleanup-hook', `${hook} cleanup`];
}

async function runCertbot(opts: CommonOptions & { certbot: string }, args: string[], certName: string, challenge?: ChallengeSpec): Promise<ClientRun> {
  const live = path.join(opts.workDir, 'config', 'live', certName);
  const env = {
    // certbot talks to the server through requests, which trusts this bundle instead of certifi's.
    REQUESTS_CA_BUNDLE: opts.server.caBundlePath,
    ...(challenge?.type === 'dns-01' ? { CHALLTESTSRV_URL: challenge.managementUrl } : {}),
  };
  return await runClient(opts.certbot, args, env, opts.timeoutMs, {
    certPath: path.join(live, 'cert.pem'),
    chainPath: path.join(live, 'chain.pem'),
    fullchainPath: path.join(live, 'fullchain.pem'),
    keyPath: path.join(live, 'privkey.pem'),
  });
}

async function dropAriSection(renewalConf: string): Promise<void> {
  const lines = (await fs.readFile(renewalConf, 'utf8')).split('\n');
  let inAri = false;
  const kept = lines.filter((line) => {
    if (/^\s*\[/.test(line)) inAri = line.trim() === '[acme_renewal_info]';
    return !inAri;
  });
  await fs.writeFile(renewalConf, kept.join('\n'));
}

// ---------------------------------------------------------------------------------------------------------
// lego

export interface LegoOptions extends CommonOptions {
  /** AcmeTools.lego. */
  lego: string;
  domains: string[];
  /**
   * lego 4.9 refuses every command, renew and revoke too, when the directory says externalAccountRequired
   * and no --eab --kid --hmac is given, even though the account exists: pass it to each call.
   */
  eab?: EabCredential;
  /** lego 4.9 needs one (it names the account's dir); default LEGO_DEFAULT_EMAIL. */
  email?: string;
}

export const LEGO_DEFAULT_EMAIL = 'acme-conformance@example.com';

export interface LegoRunOptions extends LegoOptions {
  challenge: ChallengeSpec;
}

/** `lego run`: registers an account when --path has none, then obtains a certificate. */
export async function legoRun(opts: LegoRunOptions): Promise<ClientRun> {
  return await runLego(opts, [...(await legoChallengeArgs(opts.workDir, opts.challenge)), 'run'], opts.challenge);
}

export interface LegoRenewOptions extends LegoRunOptions {
  /** Renew when the certificate expires within this many days (default 36500: always). */
  days?: number;
}

/** `lego renew`. lego 4.9 has no ARI (added in 4.14 as --ari-enable). */
export async function legoRenew(opts: LegoRenewOptions): Promise<ClientRun> {
  const challengeArgs = await legoChallengeArgs(opts.workDir, opts.challenge);
  return await runLego(opts, [...challengeArgs, 'renew', '--days', String(opts.days ?? 36500), '--no-random-sleep'], opts.challenge);
}

export interface LegoRevokeOptions extends LegoOptions {
  /** RFC 5280 reason code (default 0). */
  reason?: number;
}

/** `lego revoke --keep` (the certificate files stay where legoRun put them). */
export async function legoRevoke(opts: LegoRevokeOptions): Promise<ClientRun> {
  return await runLego(opts, ['revoke', '--reason', String(opts.reason ?? 0), '--keep']);
}

async function legoChallengeArgs(workDir: string, challenge: ChallengeSpec): Promise<string[]> {
  if (challenge.type === 'http-01') return ['--http', '--http.port', `127.0.0.1:${challenge.port}`];
  await writeDnsHook(workDir);
  // --dns.disable-cp: challtestsrv answers no SOA/NS queries, so lego cannot find the zone's authoritative
  // servers; it then only checks that the resolver serves the TXT record.
  return ['--dns', 'exec', '--dns.resolvers', challenge.dnsResolver, '--dns.disable-cp'];
}

async function runLego(opts: LegoOptions, commandArgs: string[], challenge?: ChallengeSpec): Promise<ClientRun> {
  const args = [
    '--path', opts.workDir,
    '--server', opts.server.directoryUrl,
    '--accept-tos',
    '--email', opts.email ?? LEGO_DEFAULT_EMAIL,
    ...(opts.eab ? ['--eab', '--kid', opts.eab.kid, '--hmac', opts.eab.hmacKey] : []),
    ...opts.domains.flatMap((domain) => ['-d', domain]),
    ...commandArgs,
  ];
  const env = {
    LEGO_CA_CERTIFICATES: opts.server.caBundlePath,
    ...(challenge?.type === 'dns-01'
      ? { EXEC_PATH: dnsHookPath(opts.workDir), EXEC_PROPAGATION_TIMEOUT: '30', EXEC_POLLING_INTERVAL: '1', CHALLTESTSRV_URL: challenge.managementUrl }
      : {}),
  };
  const base = path.join(opts.workDir, 'certificates', (opts.domains[0] ?? '').replace('*', '_'));
  return await runClient(opts.lego, args, env, opts.timeoutMs, {
    certPath: `${base}.crt`,
    chainPath: `${base}.issuer.crt`,
    fullchainPath: `${base}.crt`,
    keyPath: `${base}.key`,
  });
}

// ---------------------------------------------------------------------------------------------------------
// test/acme-clients/certmanager-acme (cert-manager's forked ACME client)

export interface CertManagerAcmeRun extends ClientRun {
  /** The JSON line the program printed (`{action: 'issued' | 'renewalInfo' | 'revoked', …}` or `{error}`), or null. */
  result: Record<string, unknown> | null;
}

export interface CertManagerAcmeOptions extends CommonOptions {
  /** AcmeTools.certManagerAcme. */
  binary: string;
  /** Account key PEM, created (ECDSA P-256) when missing; default `<workDir>/account-key.pem`. */
  accountKeyPath?: string;
  eab?: EabCredential;
}

export interface CertManagerOrderOptions extends CertManagerAcmeOptions {
  domains: string[];
  /** http-01, dns-01, or 'none' when the server has the authorizations valid already (pre-authorized). */
  challenge: ChallengeSpec | { type: 'none' };
  /** Send the ARI certID of this certificate as the order's `replaces` (RFC 9773). */
  replacesCertPath?: string;
  /** Where cert.pem, chain.pem, fullchain.pem and key.pem go; default `<workDir>/out`. */
  outDir?: string;
}

/** Account (EAB, TOS accepted) → order → challenges → finalize with a fresh P-256 key → download. */
export async function certManagerOrder(opts: CertManagerOrderOptions): Promise<CertManagerAcmeRun> {
  const outDir = opts.outDir ?? path.join(opts.workDir, 'out');
  const challenge = opts.challenge;
  const args = [
    ...certManagerAccountArgs(opts),
    ...opts.domains.flatMap((domain) => ['-domain', domain]),
    '-out', outDir,
    '-challenge', challenge.type,
    ...(challenge.type === 'http-01' ? ['-http-port', String(challenge.port)] : []),
    ...(challenge.type === 'dns-01' ? ['-challtestsrv', challenge.managementUrl] : []),
    ...(opts.replacesCertPath ? ['-replaces', opts.replacesCertPath] : []),
  ];
  return await runCertManager(opts, args, outDir);
}

/** Only GetRenewalInfo of a certificate (no account needed). */
export async function certManagerRenewalInfo(opts: Omit<CertManagerAcmeOptions, 'eab' | 'accountKeyPath'> & { certPath: string }): Promise<CertManagerAcmeRun> {
  return await runCertManager(opts, ['-directory', opts.server.directoryUrl, '-ca-bundle', opts.server.caBundlePath, '-ari', opts.certPath]);
}

/** Revokes a certificate signed with the account key. */
export async function certManagerRevoke(opts: CertManagerAcmeOptions & { certPath: string; reason?: number }): Promise<CertManagerAcmeRun> {
  return await runCertManager(opts, [...certManagerAccountArgs(opts), '-revoke', opts.certPath, '-reason', String(opts.reason ?? 0)]);
}

function certManagerAccountArgs(opts: CertManagerAcmeOptions): string[] {
  return [
    '-directory', opts.server.directoryUrl,
    '-ca-bundle', opts.server.caBundlePath,
    '-account-key', opts.accountKeyPath ?? path.join(opts.workDir, 'account-key.pem'),
    ...(opts.eab ? ['-eab-kid', opts.eab.kid, '-eab-hmac', opts.eab.hmacKey] : []),
  ];
}

async function runCertManager(opts: CommonOptions & { binary: string }, args: string[], outDir = path.join(opts.workDir, 'out')): Promise<CertManagerAcmeRun> {
  await fs.mkdir(opts.workDir, { recursive: true });
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  // Its own deadline first, so a slow server gives an error message rather than a kill.
  const run = await runClient(opts.binary, ['-timeout', `${Math.max(1, Math.floor(timeoutMs / 1000) - 5)}s`, ...args], {}, timeoutMs, {
    certPath: path.join(outDir, 'cert.pem'),
    chainPath: path.join(outDir, 'chain.pem'),
    fullchainPath: path.join(outDir, 'fullchain.pem'),
    keyPath: path.join(outDir, 'key.pem'),
  });
  const lastLine = run.stdout.trim().split('\n').at(-1) ?? '';
  let result: Record<string, unknown> | null = null;
  try {
    result = JSON.parse(lastLine) as Record<string, unknown>;
  } catch {
    // no JSON line: the run failed before printing one
  }
  return { ...run, result };
}

// ---------------------------------------------------------------------------------------------------------
// shared

/**
 * The dns-01 hook shared by certbot (`<hook> present|cleanup`, name and value in CERTBOT_DOMAIN and
 * CERTBOT_VALIDATION) and lego's exec provider (`<hook> present|cleanup <fqdn> <value>`): sets or clears the
 * TXT record through the challtestsrv management API at $CHALLTESTSRV_URL.
 */
const DNS_HOOK = `
const [action, fqdnArg, valueArg] = process.argv.slice(2);
const host = fqdnArg ?? \`_acme-challenge.\${process.env.CERTBOT_DOMAIN}.\`;
const value = valueArg ?? process.env.CERTBOT_VALIDATION;
const endpoint = action === 'present' ? '/set-txt' : '/clear-txt';
const response = await fetch(process.env.CHALLTESTSRV_URL + endpoint, { method: 'POST', body: JSON.stringify({ host, value }) });
if (!response.ok) {
  console.error(\`challtestsrv \${endpoint} \${host}: HTTP \${response.status}\`);
  process.exit(1);
}
`;

function dnsHookPath(workDir: string): string {
  return path.join(workDir, 'dns-hook.mjs');
}

async function writeDnsHook(workDir: string): Promise<string> {
  const hook = dnsHookPath(workDir);
  await fs.mkdir(workDir, { recursive: true });
  await fs.writeFile(hook, `#!${process.execPath}\n${DNS_HOOK}`, { mode: 0o755 });
  return hook;
}

const MAX_OUTPUT_CHARS = 1_000_000;
/** Flags whose value (an EAB MAC key) stays out of ClientRun.command and so out of test failure messages. */
const SECRET_FLAGS = new Set(['--eab-hmac-key', '--hmac', '-eab-hmac']);

async function runClient(
  command: string,
  args: string[],
  extraEnv: Record<string, string>,
  timeoutMs = DEFAULT_TIMEOUT_MS,
  files: Pick<ClientRun, 'certPath' | 'chainPath' | 'fullchainPath' | 'keyPath'>,
): Promise<ClientRun> {
  const child = spawn(command, args, { env: { ...process.env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    if (stdout.length < MAX_OUTPUT_CHARS) stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    if (stderr.length < MAX_OUTPUT_CHARS) stderr += chunk;
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  const exitCode = await new Promise<number | null>((resolve) => {
    child.once('error', (error) => {
      stderr += `\nfailed to start ${command}: ${error.message}`;
      resolve(null);
    });
    child.once('close', (code) => resolve(code));
  });
  clearTimeout(timer);
  const shown = args.map((arg, i) => (SECRET_FLAGS.has(args[i - 1] ?? '') ? '<redacted>' : arg));
  const commandLine = [command, ...shown.map((arg) => (/^[\w@%+=:,./<>-]+$/.test(arg) ? arg : `'${arg}'`))].join(' ');
  return { command: commandLine, exitCode, timedOut, stdout, stderr, ...files };
}

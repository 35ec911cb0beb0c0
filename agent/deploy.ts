/**
 * Deploys one assignment on this host: checks the certificate is the one assigned, finds its key
 * among the agent's own, writes cert/chain/fullchain/key atomically (host-files/certificate-files.ts)
 * into the target's directory and runs the target's reload command. Returns the deployed serial.
 */
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { promisify } from 'node:util';
import type { Deployment } from '../contracts/agent-wire.js';
import { writeCertificateFiles, type CertificateFiles } from '../host-files/certificate-files.js';
import type { AgentTarget } from './config.js';
import type { KeyStore } from './key-store.js';

const run = promisify(execFile);

export class DeploymentError extends Error {
  override name = 'DeploymentError';
}

export interface DeployDeps {
  targets: Record<string, AgentTarget>;
  keys: KeyStore;
  reloadTimeoutMs: number;
}

export async function deploy(deps: DeployDeps, deployment: Deployment): Promise<string> {
  const target = deps.targets[deployment.target];
  if (!target) throw new DeploymentError(`target "${deployment.target}" is not configured on this agent`);

  const certificate = new X509Certificate(deployment.certificatePem);
  const serial = certificate.serialNumber.toLowerCase();
  if (serial !== deployment.serial.toLowerCase()) {
    throw new DeploymentError(`the certificate sent has serial ${serial}, not the assigned ${deployment.serial}`);
  }
  const files: CertificateFiles = {
    'cert.pem': deployment.certificatePem,
    'chain.pem': deployment.chainPem,
    'fullchain.pem': deployment.certificatePem + deployment.chainPem,
  };
  if (deployment.keySource === 'agent') {
    const spki = certificate.publicKey.export({ type: 'spki', format: 'der' });
    const key = await deps.keys.findBySpki(deployment.certificateId, spki);
    if (!key) throw new DeploymentError(`the private key of ${deployment.certificateId} generation ${deployment.generation} is not on this host`);
    files['key.pem'] = key;
  } else if (deployment.keySource === 'server') {
    throw new DeploymentError(`${deployment.certificateId} has a server-generated key, which is never sent to agents`);
  }
  // keySource 'csr': the client that sent the CSR holds the key; only the certificate files are written.

  await writeCertificateFiles(target.directory, deployment.generation, files, target.owner ?? undefined);
  if (target.reload) await reload(target.reload, deps.reloadTimeoutMs);
  if (deployment.keySource === 'agent') await deps.keys.prune(deployment.certificateId, deployment.generation);
  return serial;
}

async function reload(argv: string[], timeoutMs: number): Promise<void> {
  const [command, ...args] = argv as [string, ...string[]];
  try {
    await run(command, args, { timeout: timeoutMs, maxBuffer: 1024 * 1024 });
  } catch (error) {
    const failure = error as { code?: unknown; signal?: unknown; stderr?: unknown; message: string };
    const why = failure.signal ? `killed by ${String(failure.signal)}` : failure.code !== undefined ? `exit status ${String(failure.code)}` : failure.message;
    const stderr = typeof failure.stderr === 'string' && failure.stderr.trim() ? `: ${failure.stderr.trim().slice(0, 500)}` : '';
    throw new DeploymentError(`reload command "${argv.join(' ')}" failed (${why})${stderr}`);
  }
}

/**
 * The agent's loop: fetch assignments → answer CSR requests with keys made here → deploy pending
 * versions and report what was deployed → sleep. One failing assignment is logged (and reported,
 * for deployments) and never stops the others; an abort signal ends the loop between assignments.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { CsrRequest, Deployment } from '../contracts/agent-wire.js';
import { AgentApiClient } from './api-client.js';
import type { AgentConfig } from './config.js';
import { buildCsr } from './csr.js';
import { deploy, type DeployDeps } from './deploy.js';
import { KeyStore } from './key-store.js';

export interface AgentRunOptions {
  signal: AbortSignal;
  log: (message: string) => void;
  client?: AgentApiClient;
}

export async function runAgent(config: AgentConfig, options: AgentRunOptions): Promise<void> {
  const client = options.client ?? new AgentApiClient(config.apiUrl, config.token);
  const keys = new KeyStore(config.stateDirectory);
  const deployDeps: DeployDeps = { targets: config.targets, keys, reloadTimeoutMs: config.reloadTimeoutMs };
  while (!options.signal.aborted) {
    await pollOnce({ client, keys, deployDeps, signal: options.signal, log: options.log });
    await sleep(config.pollIntervalMs, undefined, { signal: options.signal }).catch(() => undefined);
  }
}

interface PollDeps {
  client: AgentApiClient;
  keys: KeyStore;
  deployDeps: DeployDeps;
  signal: AbortSignal;
  log: (message: string) => void;
}

export async function pollOnce(deps: PollDeps): Promise<void> {
  let assignments;
  try {
    assignments = await deps.client.assignments();
  } catch (error) {
    deps.log(`cannot fetch assignments: ${messageOf(error)}`);
    return;
  }
  for (const request of assignments.csrRequests) {
    if (deps.signal.aborted) return;
    await answerCsrRequest(deps, request).catch((error: unknown) =>
      deps.log(`CSR for ${request.certificateId} generation ${request.generation} failed: ${messageOf(error)}`),
    );
  }
  for (const deployment of assignments.deployments) {
    if (deps.signal.aborted) return;
    await deployAndReport(deps, deployment);
  }
}

async function answerCsrRequest(deps: PollDeps, request: CsrRequest): Promise<void> {
  const key = await deps.keys.keyFor(request.certificateId, request.generation, request.keyAlgorithm);
  const csr = await buildCsr(request, key);
  await deps.client.submitCsr({ certificateId: request.certificateId, generation: request.generation, csr });
  deps.log(`sent CSR for ${request.certificateId} generation ${request.generation} (${request.keyAlgorithm} key made on this host)`);
}

async function deployAndReport(deps: PollDeps, deployment: Deployment): Promise<void> {
  const what = `${deployment.certificateId} generation ${deployment.generation} to target "${deployment.target}"`;
  let outcome: { ok: true; serial: string } | { ok: false; error: string };
  try {
    outcome = { ok: true, serial: await deploy(deps.deployDeps, deployment) };
    deps.log(`deployed ${what}, serial ${outcome.serial}`);
  } catch (error) {
    outcome = { ok: false, error: messageOf(error) };
    deps.log(`deploying ${what} failed: ${outcome.error}`);
  }
  try {
    await deps.client.report(deployment.deliveryId, outcome);
  } catch (error) {
    // The assignment stays pending: the next poll deploys it again (idempotent) and reports again.
    deps.log(`reporting deployment ${deployment.deliveryId} failed: ${messageOf(error)}`);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

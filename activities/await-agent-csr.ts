import type { ActivityDeps } from './deps.js';

export interface AwaitAgentCsrInput {
  certificateId: string;
  generation: number;
}

/** STUB — to be implemented: opens the CSR request for the agent and waits (heartbeating) for its CSR. */
export async function awaitAgentCsr(_deps: ActivityDeps, _input: AwaitAgentCsrInput): Promise<void> {
  throw new Error('not implemented');
}

/**
 * Authentication of `certflow agent` hosts by their own token (`cfa_…`, db/agents.ts). Agent
 * tokens are not API tokens: they open only the agent endpoints, and API tokens do not open those.
 */
import { createMiddleware } from 'hono/factory';
import { findAgentByToken, touchAgent, type AgentRow } from '../db/agents.js';
import type { ApiDeps } from './deps.js';
import { problems } from './problem.js';

export type AgentEnv = { Variables: { agent: AgentRow } };

export function authenticateAgent(deps: ApiDeps) {
  return createMiddleware<AgentEnv>(async (c, next) => {
    const header = c.req.header('authorization');
    const match = header ? /^Bearer\s+(cfa_\S+)\s*$/i.exec(header) : null;
    if (!match) throw problems.unauthenticated('send the agent token as "Authorization: Bearer cfa_…" (API tokens do not open agent endpoints)');
    const agent = await findAgentByToken(deps.db, match[1]!);
    if (!agent) throw problems.unauthenticated('the agent token is unknown or the agent was revoked; register the host again');
    await touchAgent(deps.db, agent.id, deps.now());
    c.set('agent', agent);
    await next();
  });
}

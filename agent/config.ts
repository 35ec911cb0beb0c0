/**
 * The agent's configuration: one JSON file, validated once at start-up. Reload commands live only
 * here (argv arrays, run without a shell): the API can name a target, never a command.
 *
 *   {
 *     "apiUrl": "https://certflow.internal",
 *     "tokenFile": "/etc/certflow-agent/token",          (or "token": "cfa_…")
 *     "stateDirectory": "/var/lib/certflow-agent",       private keys, mode 0600
 *     "pollInterval": 10,                                seconds, or an ISO-8601 duration ("PT1M")
 *     "targets": { "web": { "directory": "/etc/ssl/web", "reload": ["systemctl", "reload", "nginx"], "owner": { "uid": 0, "gid": 33 } } }
 *   }
 *
 * Relative paths are relative to the configuration file's directory.
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { parseDurationSeconds } from '../core/duration.js';

export class AgentConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export const AGENT_TOKEN_PATTERN = /^cfa_[a-z2-7]{20}_[A-Za-z0-9_-]{40}$/;
const agentToken = z.string().trim().regex(AGENT_TOKEN_PATTERN, 'must be an agent token (cfa_…) as returned by POST /v1/agents');

const path = z.string().min(1).max(4096);

const seconds = z.union([
  z.number().min(0.1, 'pollInterval must be at least 0.1 seconds').max(86_400),
  z.string().transform((value, ctx) => {
    try {
      return parseDurationSeconds(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  }),
]);

const targetSchema = z.strictObject({
  directory: path,
  /** argv of the command that makes the service pick up the new files, e.g. ["systemctl", "reload", "nginx"]. */
  reload: z.array(z.string().min(1).max(4096)).min(1).max(100).optional(),
  owner: z.strictObject({ uid: z.number().int().min(0).max(2 ** 31 - 1), gid: z.number().int().min(0).max(2 ** 31 - 1) }).optional(),
});

export const agentConfigSchema = z
  .strictObject({
    apiUrl: z.url({ protocol: /^https?$/, message: 'must be an http:// or https:// URL' }),
    token: agentToken.optional(),
    tokenFile: path.optional(),
    stateDirectory: path,
    pollInterval: seconds.default(10),
    /** How long a reload command may run before it is killed and the deployment reported failed. */
    reloadTimeout: seconds.default(60),
    targets: z.record(z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, "target names use letters, digits, '.', '_' and '-'"), targetSchema),
  })
  .refine((config) => (config.token === undefined) !== (config.tokenFile === undefined), {
    path: ['token'],
    message: 'give exactly one of token and tokenFile',
  });

export interface AgentTarget {
  directory: string;
  reload: string[] | null;
  owner: { uid: number; gid: number } | null;
}

export interface AgentConfig {
  apiUrl: string;
  token: string;
  stateDirectory: string;
  pollIntervalMs: number;
  reloadTimeoutMs: number;
  targets: Record<string, AgentTarget>;
}

/** Validates the parsed JSON; `baseDirectory` anchors relative paths; `readToken` reads a tokenFile. */
export async function parseAgentConfig(raw: unknown, baseDirectory: string, readToken: (path: string) => Promise<string>): Promise<AgentConfig> {
  const result = agentConfigSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(config)'}: ${issue.message}`);
    throw new AgentConfigError(`invalid agent configuration: ${problems.join('; ')}`);
  }
  const config = result.data;
  const at = (value: string) => (isAbsolute(value) ? value : resolve(baseDirectory, value));
  let token = config.token;
  if (token === undefined) {
    const file = at(config.tokenFile!);
    const text = await readToken(file).catch((error: unknown) => {
      throw new AgentConfigError(`cannot read tokenFile ${file}: ${(error as Error).message}`);
    });
    const parsed = agentToken.safeParse(text);
    if (!parsed.success) throw new AgentConfigError(`tokenFile ${file} does not hold an agent token (cfa_…)`);
    token = parsed.data;
  }
  const targets: Record<string, AgentTarget> = {};
  for (const [name, target] of Object.entries(config.targets)) {
    targets[name] = { directory: at(target.directory), reload: target.reload ?? null, owner: target.owner ?? null };
  }
  return {
    apiUrl: config.apiUrl.replace(/\/+$/, ''),
    token,
    stateDirectory: at(config.stateDirectory),
    pollIntervalMs: Math.round(config.pollInterval * 1000),
    reloadTimeoutMs: Math.round(config.reloadTimeout * 1000),
    targets,
  };
}

export async function loadAgentConfig(file: string): Promise<AgentConfig> {
  const text = await readFile(file, 'utf8').catch((error: unknown) => {
    throw new AgentConfigError(`cannot read the agent configuration ${file}: ${(error as Error).message}`);
  });
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new AgentConfigError(`the agent configuration ${file} is not valid JSON: ${(error as Error).message}`);
  }
  return parseAgentConfig(raw, dirname(resolve(file)), (path) => readFile(path, 'utf8'));
}

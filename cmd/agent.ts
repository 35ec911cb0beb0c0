/**
 * `certflow agent --config <file>`: runs on a host, pulls its assignments from the API with its own
 * token, makes keys locally, deploys certificates into its configured targets and reports back.
 * The configuration file may also be named by CERTFLOW_AGENT_CONFIG.
 */
import { parseArgs } from 'node:util';
import { AgentConfigError, loadAgentConfig } from '../agent/config.js';
import { runAgent } from '../agent/run.js';
import { logger, onShutdownSignal, runMain } from './log.js';

runMain(async () => {
  const { values } = parseArgs({ options: { config: { type: 'string', short: 'c' } }, strict: true });
  const file = values.config ?? process.env['CERTFLOW_AGENT_CONFIG'];
  if (!file) throw new AgentConfigError('usage: certflow agent --config <file> (or set CERTFLOW_AGENT_CONFIG)');
  const config = await loadAgentConfig(file);
  const log = logger('agent');
  const controller = new AbortController();
  const done = runAgent(config, { signal: controller.signal, log });
  log(`agent polling ${config.apiUrl} every ${config.pollIntervalMs} ms; targets: ${Object.keys(config.targets).join(', ') || '(none)'}`);
  onShutdownSignal(async () => {
    controller.abort();
    await done;
  });
  await done;
});

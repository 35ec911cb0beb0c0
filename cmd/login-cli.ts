/**
 * `certflow login`: checks a token against the API and stores the API URL and token for the other
 * commands (cmd/cli-config.ts, 0600). The API accepts OpenID Connect access tokens (JWTs) but runs
 * no login flow of its own and does not publish an OIDC client for the CLI, so there is no device
 * flow here: an OIDC access token obtained elsewhere is stored with `--token` like an API token.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { jsonApi } from './cli-api.js';
import { DEFAULT_API_URL } from './cli-args.js';
import { CliUsageError, checkedApiUrl, helpRequested, parseCommandArgs, printJson, runCommand, type CliCommandSpec } from './cli-command.js';
import { configPath, writeStoredLogin } from './cli-config.js';
import { EXIT_CODES_HELP, EXIT_OK } from './cli-exit.js';

const LOGIN_USAGE = `usage: certflow login [--api-url <url>] (--token <token> | --token-stdin)
  checks the token against the API (GET /v1/issuers) and stores the URL and token in
  $XDG_CONFIG_HOME/certflow/config.json (else ~/.config/certflow/config.json), mode 0600;
  nothing is stored when the API refuses the token
  --api-url <url>   else CERTFLOW_API_URL, else ${DEFAULT_API_URL}
  --token <token>   an API token (cft_…) or an OIDC access token (JWT) the API accepts
  --token-stdin     read the token from the first line of stdin (keeps it out of the shell history)
  --json            print {apiUrl, configFile} as JSON
  OIDC device flow: not offered; the API verifies OIDC access tokens but has no device
  authorization flow of its own to start one with
${EXIT_CODES_HELP}`;


export const loginCommand: CliCommandSpec = {
  name: 'login',
  summary: 'check a token and store it with the API URL (0600 config file)',
  usage: LOGIN_USAGE,
  run: (args, io) =>
    runCommand(loginCommand, args, io, async () => {
      const { values, positionals } = parseCommandArgs(args, {
        'api-url': { type: 'string' },
        token: { type: 'string' },
        'token-stdin': { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      });
      if (helpRequested(values, io, LOGIN_USAGE)) return EXIT_OK;
      if (positionals.length > 0) throw new CliUsageError(`login takes options only; unexpected "${positionals.join(' ')}"`);
      if (Boolean(values.token) === Boolean(values['token-stdin'])) throw new CliUsageError('login needs exactly one of --token <token> or --token-stdin');
      const apiUrl = checkedApiUrl(values['api-url'] ?? io.env['CERTFLOW_API_URL'] ?? DEFAULT_API_URL);
      const token = (values.token ?? readFileSync(0, 'utf8').split('\n')[0] ?? '').trim();
      if (token === '') throw new CliUsageError('the token is empty');
      // Any authenticated token may list the issuers: a refusal here is about the token, not its role.
      await jsonApi({ apiUrl, token }, io.fetch)('GET', '/v1/issuers', z.array(z.unknown()));
      const path = configPath(io.env);
      await writeStoredLogin(path, { apiUrl, token });
      if (values.json) printJson(io, { apiUrl, configFile: path });
      else io.out(`logged in to ${apiUrl}; stored in ${path}`);
      return EXIT_OK;
    }),
};

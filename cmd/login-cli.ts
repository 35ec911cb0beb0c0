/**
 * `certflow login`: stores the API URL and a token for the other commands (cmd/cli-config.ts, 0600),
 * after checking it with the API (`GET /v1/auth/whoami`). The token is an API token given with `--token` /
 * `--token-stdin`, or, with `--oidc`, an OIDC access token obtained by the device authorization flow
 * (RFC 8628, cmd/oidc-device-flow.ts) from the issuer and public client the API publishes at
 * `GET /v1/auth/oidc`; its refresh token is stored too, and later commands refresh an expired access token.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { jsonApi } from './cli-api.js';
import { DEFAULT_API_URL } from './cli-args.js';
import { CliFailure, CliUsageError, checkedApiUrl, helpRequested, parseCommandArgs, printJson, runCommand, type CliCommandSpec, type CliIo } from './cli-command.js';
import { configPath, writeStoredLogin, type StoredLogin } from './cli-config.js';
import { EXIT_AUTH, EXIT_CODES_HELP, EXIT_FAILURE, EXIT_LOGIN_EXPIRED, EXIT_OK } from './cli-exit.js';
import { apiOidcLoginSchema, DeviceFlowError, discoverIdp, pollForTokens, requestDeviceAuthorization, type DeviceFlowIo } from './oidc-device-flow.js';

const whoamiSchema = z.object({ principalId: z.string(), teamId: z.string().nullable(), teamName: z.string().nullable(), role: z.string(), via: z.string() });
const OIDC_SCOPE = 'openid offline_access';

const LOGIN_USAGE = `usage: certflow login [--api-url <url>] (--token <token> | --token-stdin | --oidc)
  checks the token against the API (GET /v1/auth/whoami) and stores the URL and token in
  $XDG_CONFIG_HOME/certflow/config.json (else ~/.config/certflow/config.json), mode 0600;
  nothing is stored when the API refuses the token
  --api-url <url>   else CERTFLOW_API_URL, else ${DEFAULT_API_URL}
  --token <token>   an API token (cft_…) or an OIDC access token (JWT) the API accepts
  --token-stdin     read the token from the first line of stdin (keeps it out of the shell history)
  --oidc            log in at the API's OIDC identity provider with the device flow (RFC 8628):
                    prints a URL and a code to confirm in a browser, waits for the confirmation,
                    stores the access and refresh tokens; later commands refresh an expired one
  --json            print {apiUrl, configFile, principal} as JSON (--oidc: the URL and code on stderr)
${EXIT_CODES_HELP}`;


export const loginCommand: CliCommandSpec = {
  name: 'login',
  summary: 'log in with a token or the OIDC device flow; stores it with the API URL (0600 config file)',
  usage: LOGIN_USAGE,
  run: (args, io) =>
    runCommand(loginCommand, args, io, async () => {
      const { values, positionals } = parseCommandArgs(args, {
        'api-url': { type: 'string' },
        token: { type: 'string' },
        'token-stdin': { type: 'boolean' },
        oidc: { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      });
      if (helpRequested(values, io, LOGIN_USAGE)) return EXIT_OK;
      if (positionals.length > 0) throw new CliUsageError(`login takes options only; unexpected "${positionals.join(' ')}"`);
      const ways = [values.token !== undefined, values['token-stdin'] === true, values.oidc === true].filter(Boolean).length;
      if (ways !== 1) throw new CliUsageError('login needs exactly one of --token <token>, --token-stdin or --oidc');
      const apiUrl = checkedApiUrl(values['api-url'] ?? io.env['CERTFLOW_API_URL'] ?? DEFAULT_API_URL);
      let login: StoredLogin;
      if (values.oidc) {
        login = await oidcDeviceLogin(apiUrl, io, values.json === true);
      } else {
        const token = (values.token ?? readFileSync(0, 'utf8').split('\n')[0] ?? '').trim();
        if (token === '') throw new CliUsageError('the token is empty');
        login = { apiUrl, token };
      }
      // Any authenticated token may ask who it is: a refusal here is about the token, not its role.
      const principal = await jsonApi({ apiUrl, token: login.token }, io.fetch)('GET', '/v1/auth/whoami', whoamiSchema);
      const path = configPath(io.env);
      await writeStoredLogin(path, login);
      if (values.json) printJson(io, { apiUrl, configFile: path, principal });
      else io.out(`logged in to ${apiUrl} as ${principal.role} of ${principal.teamName ?? 'the platform'} (${principal.via}); stored in ${path}`);
      return EXIT_OK;
    }),
};

/** The device flow: the API names the issuer and client, the user confirms in a browser, the CLI polls. */
async function oidcDeviceLogin(apiUrl: string, io: CliIo, json: boolean): Promise<StoredLogin> {
  const settings = await (io.fetch ?? fetch)(`${apiUrl}/v1/auth/oidc`).then(
    async (response) => ({ response, body: (await response.json().catch(() => null)) as unknown }),
    () => null,
  );
  if (!settings) throw new CliFailure(EXIT_FAILURE, '/problems/cli-api-unreachable', 'API unreachable', `cannot reach the API at ${apiUrl}`);
  if (settings.response.status === 404) {
    const detail = z.object({ detail: z.string() }).safeParse(settings.body);
    throw new CliFailure(EXIT_AUTH, '/problems/cli-oidc-not-offered', 'No OIDC login', detail.success ? detail.data.detail : `${apiUrl} offers no OIDC login`);
  }
  const published = apiOidcLoginSchema.safeParse(settings.body);
  if (!settings.response.ok || !published.success) throw new CliFailure(EXIT_FAILURE, '/problems/cli-oidc-settings', 'Unusable OIDC settings', `GET ${apiUrl}/v1/auth/oidc answered ${settings.response.status} without usable OIDC settings`);
  const { issuer, clientId } = published.data;
  const flowIo: DeviceFlowIo = { fetch: io.fetch ?? fetch, sleep: (ms) => (io.sleep ?? ((wait: number) => new Promise((resolve) => setTimeout(resolve, wait))))(ms), now: () => new Date() };
  try {
    const endpoints = await discoverIdp(flowIo, issuer);
    const authorization = await requestDeviceAuthorization(flowIo, endpoints, clientId, OIDC_SCOPE);
    // With --json stdout is one JSON document at the end: the instructions go to stderr.
    const tell = json ? io.err : io.out;
    tell(`To log in, open ${authorization.verification_uri_complete ?? authorization.verification_uri}`);
    tell(`and confirm the code ${authorization.user_code} (valid for ${authorization.expires_in} s). Waiting…`);
    const tokens = await pollForTokens(flowIo, endpoints, clientId, authorization);
    return { apiUrl, token: tokens.accessToken, oidc: { issuer, clientId, tokenEndpoint: endpoints.tokenEndpoint, refreshToken: tokens.refreshToken, expiresAt: tokens.expiresAt } };
  } catch (error) {
    if (!(error instanceof DeviceFlowError)) throw error;
    if (error.reason === 'denied') throw new CliFailure(EXIT_AUTH, '/problems/cli-login-denied', 'Login refused', error.message);
    if (error.reason === 'expired') throw new CliFailure(EXIT_LOGIN_EXPIRED, '/problems/cli-login-expired', 'Login not confirmed in time', error.message);
    throw new CliFailure(EXIT_FAILURE, '/problems/cli-oidc-provider', 'Identity provider failed', error.message);
  }
}

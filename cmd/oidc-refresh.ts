/**
 * A stored OIDC login whose access token has expired (or expires within a minute) is refreshed with its refresh
 * token before a command sends it, and the new tokens are stored (same file, 0600). Without a refresh token, or
 * when the IdP refuses it, the command is told to log in again.
 */
import { CliFailure } from './cli-command.js';
import { writeStoredLogin, type StoredLogin } from './cli-config.js';
import { EXIT_AUTH, EXIT_FAILURE } from './cli-exit.js';
import { DeviceFlowError, refreshTokens } from './oidc-device-flow.js';

const EARLY_SECONDS = 60;

export async function refreshedIfExpired(stored: StoredLogin, path: string, fetchImpl: typeof fetch, now: () => Date = () => new Date()): Promise<StoredLogin> {
  const oidc = stored.oidc;
  if (!oidc?.expiresAt || Date.parse(oidc.expiresAt) - EARLY_SECONDS * 1000 > now().getTime()) return stored;
  if (!oidc.refreshToken) {
    throw new CliFailure(EXIT_AUTH, '/problems/cli-login-expired', 'Login expired', `the OIDC login stored in ${path} has expired and has no refresh token: run "certflow login --oidc" again`);
  }
  let tokens;
  try {
    tokens = await refreshTokens({ fetch: fetchImpl, sleep: async () => {}, now }, oidc.tokenEndpoint, oidc.clientId, oidc.refreshToken);
  } catch (error) {
    if (!(error instanceof DeviceFlowError)) throw error;
    const code = error.reason === 'denied' ? EXIT_AUTH : EXIT_FAILURE;
    throw new CliFailure(code, '/problems/cli-login-refresh-failed', 'Login could not be refreshed', `${error.message}: run "certflow login --oidc" again`);
  }
  const refreshed: StoredLogin = { ...stored, token: tokens.accessToken, oidc: { ...oidc, refreshToken: tokens.refreshToken, expiresAt: tokens.expiresAt } };
  await writeStoredLogin(path, refreshed);
  return refreshed;
}

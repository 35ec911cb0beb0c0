/** CERTFLOW_OIDC_CLI_CLIENT_ID (cmd/config.ts): the public client `certflow login --oidc` uses, published at GET /v1/auth/oidc. */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../cmd/config.js';

const OIDC = { CERTFLOW_OIDC_ISSUER: 'https://idp.example.test', CERTFLOW_OIDC_AUDIENCE: 'https://certflow.example.test' };

describe('OIDC CLI client configuration', () => {
  it('ok/unset: OIDC tokens are accepted, no CLI login is published', () => {
    expect(loadConfig(OIDC).oidc?.cliClientId).toBeNull();
    expect(loadConfig({ ...OIDC, CERTFLOW_OIDC_CLI_CLIENT_ID: ' ' }).oidc?.cliClientId).toBeNull();
  });
  it('ok/set next to the issuer', () => {
    expect(loadConfig({ ...OIDC, CERTFLOW_OIDC_CLI_CLIENT_ID: 'certflow-cli' }).oidc?.cliClientId).toBe('certflow-cli');
  });
  it('fail/without an issuer', () => {
    expect(() => loadConfig({ CERTFLOW_OIDC_CLI_CLIENT_ID: 'certflow-cli' })).toThrow(ConfigError);
    expect(() => loadConfig({ CERTFLOW_OIDC_CLI_CLIENT_ID: 'certflow-cli' })).toThrow(/CERTFLOW_OIDC_CLI_CLIENT_ID: needs CERTFLOW_OIDC_ISSUER/);
  });
  it('fail/with a space', () => {
    expect(() => loadConfig({ ...OIDC, CERTFLOW_OIDC_CLI_CLIENT_ID: 'certflow cli' })).toThrow(/CERTFLOW_OIDC_CLI_CLIENT_ID/);
  });
});

/** CERTFLOW_CA_* (cmd/config.ts): the CA's distinguished names, as set; what is refused, and how it is named. */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../cmd/config.js';
import { isCountryCode } from '../../../core/country-codes.js';

describe('CA names configuration', () => {
  const ok: { name: string; env: NodeJS.ProcessEnv; want: ReturnType<typeof loadConfig>['caNames'] }[] = [
    { name: 'ok/nothing set: nothing configured (the defaults apply at creation)', env: {}, want: {} },
    { name: 'ok/empty values are unset', env: { CERTFLOW_CA_COUNTRY: '', CERTFLOW_CA_ORGANIZATION: ' ' }, want: {} },
    {
      name: 'ok/every name',
      env: { CERTFLOW_CA_ORGANIZATION: 'Bücher GmbH', CERTFLOW_CA_COUNTRY: 'DE', CERTFLOW_CA_ROOT_CN: 'Bücher Root CA', CERTFLOW_CA_INTERMEDIATE_CN: 'Bücher Issuing CA 1' },
      want: { organization: 'Bücher GmbH', country: 'DE', rootCommonName: 'Bücher Root CA', intermediateCommonName: 'Bücher Issuing CA 1' },
    },
    { name: 'ok/XX (no country given)', env: { CERTFLOW_CA_COUNTRY: 'XX' }, want: { country: 'XX' } },
  ];
  it.each(ok)('$name', ({ env, want }) => {
    expect(loadConfig(env).caNames).toEqual(want);
  });

  const fail: { name: string; env: NodeJS.ProcessEnv; message: RegExp }[] = [
    { name: 'fail/country in lower case', env: { CERTFLOW_CA_COUNTRY: 'de' }, message: /CERTFLOW_CA_COUNTRY: must be an ISO 3166-1 alpha-2 country code in upper case/ },
    { name: 'fail/three letters', env: { CERTFLOW_CA_COUNTRY: 'DEU' }, message: /CERTFLOW_CA_COUNTRY/ },
    { name: 'fail/not an assigned code (UK is reserved, GB is the code)', env: { CERTFLOW_CA_COUNTRY: 'UK' }, message: /CERTFLOW_CA_COUNTRY/ },
    { name: 'fail/not PrintableString-safe', env: { CERTFLOW_CA_COUNTRY: 'D*' }, message: /CERTFLOW_CA_COUNTRY/ },
    { name: 'fail/organization over 64 characters', env: { CERTFLOW_CA_ORGANIZATION: 'O'.repeat(65) }, message: /CERTFLOW_CA_ORGANIZATION: must be at most 64 characters/ },
    { name: 'fail/common name with a control character', env: { CERTFLOW_CA_ROOT_CN: 'Root\u0007CA' }, message: /CERTFLOW_CA_ROOT_CN: must not contain control characters/ },
  ];
  it.each(fail)('$name', ({ env, message }) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('ok/the country list holds the 249 assigned codes and XX, in upper case only', () => {
    for (const code of ['DE', 'US', 'GB', 'JP', 'BR', 'ZA', 'XX']) expect(isCountryCode(code), code).toBe(true);
    for (const code of ['UK', 'EU', 'ZZ', 'AA', 'de', '', 'D']) expect(isCountryCode(code), code).toBe(false);
  });
});

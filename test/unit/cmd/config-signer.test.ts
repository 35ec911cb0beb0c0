/** CERTFLOW_SIGNER and the PKCS#11 settings (cmd/config.ts): what is accepted, and how a bad setting is named. */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, type SignerConfig } from '../../../cmd/config.js';

const PKCS11 = { CERTFLOW_SIGNER: 'pkcs11', CERTFLOW_PKCS11_MODULE: '/usr/lib/softhsm/libsofthsm2.so', CERTFLOW_PKCS11_PIN_FILE: '/run/secrets/pin' };

describe('signer configuration', () => {
  const ok: { name: string; env: NodeJS.ProcessEnv; signer: SignerConfig }[] = [
    { name: 'ok/default is software', env: {}, signer: { backend: 'software' } },
    { name: 'ok/empty is software', env: { CERTFLOW_SIGNER: '' }, signer: { backend: 'software' } },
    {
      name: 'ok/pkcs11 by token label',
      env: { ...PKCS11, CERTFLOW_PKCS11_TOKEN_LABEL: 'certflow' },
      signer: { backend: 'pkcs11', modulePath: PKCS11.CERTFLOW_PKCS11_MODULE, tokenLabel: 'certflow', slot: undefined, pinFile: '/run/secrets/pin', sessions: 4 },
    },
    {
      name: 'ok/pkcs11 by slot, 8 sessions',
      env: { ...PKCS11, CERTFLOW_PKCS11_SLOT: '1867', CERTFLOW_PKCS11_SESSIONS: '8' },
      signer: { backend: 'pkcs11', modulePath: PKCS11.CERTFLOW_PKCS11_MODULE, tokenLabel: undefined, slot: 1867, pinFile: '/run/secrets/pin', sessions: 8 },
    },
  ];
  it.each(ok)('$name', ({ env, signer }) => {
    expect(loadConfig(env).signer).toEqual(signer);
  });

  const fail: { name: string; env: NodeJS.ProcessEnv; message: RegExp }[] = [
    { name: 'fail/unknown backend', env: { CERTFLOW_SIGNER: 'hsm' }, message: /CERTFLOW_SIGNER/ },
    { name: 'fail/pkcs11 without module', env: { ...PKCS11, CERTFLOW_PKCS11_MODULE: undefined, CERTFLOW_PKCS11_TOKEN_LABEL: 'x' }, message: /CERTFLOW_PKCS11_MODULE: required/ },
    { name: 'fail/pkcs11 without PIN file', env: { ...PKCS11, CERTFLOW_PKCS11_PIN_FILE: undefined, CERTFLOW_PKCS11_TOKEN_LABEL: 'x' }, message: /CERTFLOW_PKCS11_PIN_FILE: required/ },
    { name: 'fail/pkcs11 with neither token label nor slot', env: PKCS11, message: /exactly one of CERTFLOW_PKCS11_TOKEN_LABEL and CERTFLOW_PKCS11_SLOT/ },
    { name: 'fail/pkcs11 with both token label and slot', env: { ...PKCS11, CERTFLOW_PKCS11_TOKEN_LABEL: 'x', CERTFLOW_PKCS11_SLOT: '1' }, message: /exactly one of/ },
    { name: 'fail/slot is not a number', env: { ...PKCS11, CERTFLOW_PKCS11_SLOT: 'first' }, message: /CERTFLOW_PKCS11_SLOT: must be a slot id/ },
    { name: 'fail/no sessions', env: { ...PKCS11, CERTFLOW_PKCS11_TOKEN_LABEL: 'x', CERTFLOW_PKCS11_SESSIONS: '0' }, message: /CERTFLOW_PKCS11_SESSIONS/ },
    { name: 'fail/a PIN in the environment is refused, whatever the backend', env: { CERTFLOW_PKCS11_PIN: '123456' }, message: /CERTFLOW_PKCS11_PIN: the PIN is never read from the environment/ },
  ];
  it.each(fail)('$name', ({ env, message }) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('fail/the refused PIN is not echoed in the error', () => {
    expect(() => loadConfig({ CERTFLOW_PKCS11_PIN: '987654' })).toThrow(expect.objectContaining({ message: expect.not.stringContaining('987654') }));
  });
});

/**
 * CERTFLOW_SIGNER=pkcs11: opens the configured token for the worker (one session pool per process, logged in
 * once). The user PIN is read from CERTFLOW_PKCS11_PIN_FILE — never from the environment, argv or logs — and the
 * file must not be readable by other users.
 */
import { readFile, stat } from 'node:fs/promises';
import { Pkcs11Token } from '../ca/pkcs11-token.js';
import { ConfigError, type SignerConfig } from './config.js';

/** The token CA keys live in, or undefined for the software backend. */
export async function openConfiguredHsm(signer: SignerConfig, log: (message: string) => void): Promise<Pkcs11Token | undefined> {
  if (signer.backend === 'software') {
    log('CA keys: software (new CA keys are sealed under the KEK in Postgres)');
    return undefined;
  }
  const pin = await readPin(signer.pinFile);
  const token = await Pkcs11Token.open(
    { modulePath: signer.modulePath, pin, ...(signer.tokenLabel !== undefined ? { tokenLabel: signer.tokenLabel } : { slot: signer.slot! }) },
    signer.sessions,
  );
  log(`CA keys: PKCS#11 ${token.describe()} (new CA keys are created in the token; up to ${signer.sessions} sessions)`);
  return token;
}

async function readPin(pinFile: string): Promise<string> {
  const info = await stat(pinFile).catch((error: NodeJS.ErrnoException) => {
    throw new ConfigError(`CERTFLOW_PKCS11_PIN_FILE: cannot read ${pinFile} (${error.code ?? error.message})`);
  });
  if (!info.isFile()) throw new ConfigError(`CERTFLOW_PKCS11_PIN_FILE: ${pinFile} is not a file`);
  if ((info.mode & 0o007) !== 0) throw new ConfigError(`CERTFLOW_PKCS11_PIN_FILE: ${pinFile} is accessible to other users (mode ${(info.mode & 0o777).toString(8)}); chmod 600 it`);
  // One line; a trailing newline (echo > file) is not part of the PIN.
  const pin = (await readFile(pinFile, 'utf8')).replace(/\r?\n$/, '');
  if (pin.length === 0 || pin.includes('\n')) throw new ConfigError(`CERTFLOW_PKCS11_PIN_FILE: ${pinFile} must hold the PIN on one line`);
  return pin;
}

/**
 * The single entry point to @peculiar/x509: it needs a reflect polyfill and a crypto provider, and
 * we set the provider explicitly instead of relying on the library's default.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export { x509 };

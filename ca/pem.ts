/** PEM armour (RFC 7468) around DER. */
import { DerError } from './der-reader.js';

export function pemToDer(pem: string, label = 'CERTIFICATE'): Buffer {
  const match = new RegExp(`-----BEGIN ${label}-----([^-]+)-----END ${label}-----`).exec(pem);
  if (!match) throw new DerError(`no ${label} PEM block found`);
  return Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64');
}

export function derToPem(der: Uint8Array, label: string): string {
  const base64 = Buffer.from(der).toString('base64');
  return `-----BEGIN ${label}-----\n${base64.match(/.{1,64}/g)!.join('\n')}\n-----END ${label}-----\n`;
}

/** PEM armour (RFC 7468) around DER. */
import { DerError } from './der-reader.js';

export function pemToDer(pem: string, label = 'CERTIFICATE'): Buffer {
  const match = new RegExp(`-----BEGIN ${label}-----([^-]+)-----END ${label}-----`).exec(pem);
  if (!match) throw new DerError(`no ${label} PEM block found`);
  return Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64');
}

export function derToPem(der: Uint8Array, label: string): string {
  const base64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  let body = '';
  for (let start = 0; start < base64.length; start += 64) body += `${base64.slice(start, start + 64)}\n`;
  return `-----BEGIN ${label}-----\n${body}-----END ${label}-----\n`;
}

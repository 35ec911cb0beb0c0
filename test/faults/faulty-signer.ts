/**
 * The fault suite's CA signer: wraps an issuer's real signer, fails a fraction of its calls before
 * signing (`SignerFaultInjected`), and logs every certificate it signs (issuer, serial, SHA-256 of
 * the TBSCertificate) to a file with a synchronous append, before the signature is returned: a
 * worker killed right after signing still leaves the line. Injected failures are logged too, so the
 * suite counts them across worker processes. CRL and OCSP signatures are not logged (only counted
 * when they fail).
 */
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import type { Signer } from '../../ca/signer.js';

export class SignerFaultInjected extends Error {
  override name = 'SignerFaultInjected';
}

export type SignerLogLine =
  | { kind: 'signed'; issuerId: string; serial: string; tbsSha256: string; pid: number; at: string }
  | { kind: 'fault'; issuerId: string; what: SignedKind; pid: number; at: string };

export type SignedKind = 'certificate' | 'crl' | 'ocsp' | 'other';

export interface SignerFaults {
  /** Fraction of sign() calls that fail, 0..1. */
  failureRate: number;
  logFile: string;
  random?: () => number;
}

export function faultySigner(signer: Signer, issuerId: string, faults: SignerFaults): Signer {
  const random = faults.random ?? Math.random;
  const log = (line: SignerLogLine) => appendFileSync(faults.logFile, `${JSON.stringify(line)}\n`);
  return {
    keyAlgorithm: signer.keyAlgorithm,
    publicKeySpki: signer.publicKeySpki,
    async sign(data) {
      const what = classifyTbs(data);
      if (random() < faults.failureRate) {
        log({ kind: 'fault', issuerId, what: what.kind, pid: process.pid, at: new Date().toISOString() });
        throw new SignerFaultInjected(`injected signer failure (${what.kind}, issuer ${issuerId})`);
      }
      const signature = await signer.sign(data);
      if (what.kind === 'certificate') {
        log({ kind: 'signed', issuerId, serial: what.serial, tbsSha256: createHash('sha256').update(data).digest('hex'), pid: process.pid, at: new Date().toISOString() });
      }
      return signature;
    },
  };
}

export function readSignerLog(file: string): SignerLogLine[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as SignerLogLine];
      } catch {
        return []; // a line cut short by SIGKILL mid-write
      }
    });
}

/** Canonical serial: lower-case hex without leading zero octets (as certificate_versions stores it). */
export function canonicalSerial(hex: string): string {
  return hex.toLowerCase().replace(/^(00)+(?=.)/, '');
}

/**
 * What a to-be-signed structure is, from its first fields: a TBSCertificate starts with `[0]
 * version` then the serial INTEGER; a TBSCertList with an INTEGER version then a SEQUENCE; an
 * OCSP ResponseData with an optional `[0]` version then the responder id (`[1]`/`[2]`).
 */
export function classifyTbs(tbs: Uint8Array): { kind: 'certificate'; serial: string } | { kind: Exclude<SignedKind, 'certificate'> } {
  try {
    const outer = readTlv(tbs, 0);
    if (outer.tag !== 0x30) return { kind: 'other' };
    const first = readTlv(tbs, outer.contentStart);
    const second = readTlv(tbs, first.end);
    if (first.tag === 0xa0 && second.tag === 0x02) {
      return { kind: 'certificate', serial: canonicalSerial(Buffer.from(tbs.subarray(second.contentStart, second.end)).toString('hex')) };
    }
    if (first.tag === 0x02 && second.tag === 0x30) return { kind: 'crl' };
    if (first.tag === 0xa1 || first.tag === 0xa2 || (first.tag === 0xa0 && (second.tag === 0xa1 || second.tag === 0xa2))) return { kind: 'ocsp' };
    return { kind: 'other' };
  } catch {
    return { kind: 'other' };
  }
}

function readTlv(der: Uint8Array, offset: number): { tag: number; contentStart: number; end: number } {
  const tag = der[offset]!;
  let length = der[offset + 1]!;
  let contentStart = offset + 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + der[offset + 2 + i]!;
    contentStart += octets;
  }
  if (contentStart + length > der.length) throw new Error('truncated DER');
  return { tag, contentStart, end: contentStart + length };
}

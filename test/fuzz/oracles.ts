/**
 * Independent judges of DER input for the differential fuzz tests: the openssl binary and pkijs
 * (asn1js underneath). Each says whether it accepts the bytes as a CSR (parsed and self-signature
 * verified) or as an OCSP request (parsed); an exception or a non-zero exit is a refusal.
 */
import { spawn } from 'node:child_process';
import { createPublicKey, verify, webcrypto } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';

pkijs.setEngine('node', new pkijs.CryptoEngine({ name: 'node', crypto: webcrypto as unknown as Crypto }));

export interface Verdict {
  accepted: boolean;
  detail: string;
}

/** Runs openssl with `input` on stdin; resolves with its exit code and output. */
function openssl(args: string[], input: Buffer): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('openssl', args, { stdio: ['pipe', 'pipe', 'pipe'], timeout: 10_000 });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
    // openssl may exit before reading everything (garbage input): a broken pipe is not an error here.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

/** `openssl req -verify`: OpenSSL 3.0 exits 0 even when the signature fails, so the message decides. */
export async function opensslCsr(der: Buffer): Promise<Verdict> {
  const { code, output } = await openssl(['req', '-verify', '-noout', '-inform', 'DER'], der);
  const accepted = code === 0 && output.includes('self-signature verify OK');
  return { accepted, detail: `openssl req: exit ${code}: ${firstLines(output)}` };
}

let requestFiles = 0;

/** `openssl ocsp -reqin` reads a file (not a pipe: node's stdio pipes are sockets, which it cannot open). */
export async function opensslOcspRequest(der: Buffer): Promise<Verdict> {
  const file = join(tmpdir(), `certflow-fuzz-ocsp-${process.pid}-${requestFiles++}.der`);
  await writeFile(file, der);
  const { code, output } = await openssl(['ocsp', '-reqin', file, '-req_text'], Buffer.alloc(0)).finally(() => rm(file, { force: true }));
  if (/Can't open|No such file/.test(output)) throw new Error(`openssl could not read its input: ${output}`);
  return { accepted: code === 0, detail: `openssl ocsp: exit ${code}: ${firstLines(code === 0 ? '' : output)}` };
}

const ED25519 = '1.3.101.112';

/** pkijs parses the CSR and verifies its signature (Ed25519, which pkijs cannot verify, with node:crypto over what pkijs parsed). */
export async function pkijsCsr(der: Buffer): Promise<Verdict> {
  try {
    const csr = pkijs.CertificationRequest.fromBER(new Uint8Array(der));
    let valid: boolean;
    if (csr.signatureAlgorithm.algorithmId === ED25519) {
      const key = createPublicKey({ key: Buffer.from(csr.subjectPublicKeyInfo.toSchema().toBER()), format: 'der', type: 'spki' });
      valid = verify(null, csr.tbsView, key, csr.signatureValue.valueBlock.valueHexView);
    } else {
      valid = await csr.verify();
    }
    return { accepted: valid, detail: valid ? 'pkijs: verified' : 'pkijs: signature does not verify' };
  } catch (error) {
    return { accepted: false, detail: `pkijs: ${(error as Error).message}` };
  }
}

export function pkijsOcspRequest(der: Buffer): Verdict {
  try {
    pkijs.OCSPRequest.fromBER(new Uint8Array(der));
    return { accepted: true, detail: 'pkijs: parsed' };
  } catch (error) {
    return { accepted: false, detail: `pkijs: ${(error as Error).message}` };
  }
}

function firstLines(text: string): string {
  return text.split('\n').slice(0, 3).join(' | ').slice(0, 300);
}

const EXTENSION_REQUEST = '1.2.840.113549.1.9.14';
const SUBJECT_ALT_NAME = '2.5.29.17';

/**
 * Why the CSR's extensionRequest attribute (its Extensions, and the GeneralNames of a
 * subjectAltName) is malformed for pkijs/asn1js, or null. `openssl req -verify` and pkijs's
 * CertificationRequest keep attribute values opaque; this decodes them as Certflow does.
 */
export function pkijsExtensionRequestProblem(der: Buffer): string | null {
  let csr: pkijs.CertificationRequest;
  try {
    csr = pkijs.CertificationRequest.fromBER(new Uint8Array(der));
  } catch {
    return null;
  }
  for (const attribute of csr.attributes ?? []) {
    if (attribute.type !== EXTENSION_REQUEST) continue;
    if (!Array.isArray(attribute.values)) return 'extensionRequest: pkijs read no values';
    for (const value of attribute.values) {
      try {
        const { extensions } = new pkijs.Extensions({ schema: value });
        for (const extension of extensions) {
          if (extension.extnID !== SUBJECT_ALT_NAME) continue;
          const bytes = extension.extnValue.valueBlock.valueHexView;
          const inner = asn1js.fromBER(bytes);
          if (inner.offset === -1 || inner.offset !== bytes.byteLength) return 'the subjectAltName value is not one BER element';
          new pkijs.GeneralNames({ schema: inner.result });
        }
      } catch (error) {
        return `extensionRequest: ${(error as Error).message}`;
      }
    }
  }
  return null;
}

/** Shared helpers for the ca/ unit tests: a temp dir, the real openssl binary and a fixed CA hierarchy. */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createIntermediateCa, createRootCa, type CaKeyAndCertificate } from '../../../ca/authority.js';
import type { IssuerForSigning } from '../../support/reference-leaf.js';
import { randomSerial } from '../../../ca/serial.js';

const execFileAsync = promisify(execFile);

/** The fixed clock of every CA test: the root and intermediate are created at this instant. */
export const NOW = new Date('2025-01-01T00:00:00.000Z');
export const ROOT_VALIDITY_DAYS = 3650;
export const INTERMEDIATE_VALIDITY_DAYS = 365;

export const epochSeconds = (date: Date): string => String(Math.floor(date.getTime() / 1000));

export interface OpensslResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real openssl binary; a non-zero exit is returned, not thrown. */
export async function openssl(args: string[], cwd?: string): Promise<OpensslResult> {
  try {
    const { stdout, stderr } = await execFileAsync('openssl', args, { cwd, encoding: 'utf8' });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

export interface TempDir {
  path: string;
  write(name: string, content: string | Uint8Array): Promise<string>;
  remove(): Promise<void>;
}

export async function makeTempDir(prefix: string): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), `certflow-${prefix}-`));
  return {
    path,
    async write(name, content) {
      const file = join(path, name);
      await writeFile(file, content);
      return file;
    },
    remove: () => rm(path, { recursive: true, force: true }),
  };
}

export interface Hierarchy {
  root: CaKeyAndCertificate;
  intermediate: CaKeyAndCertificate;
  issuer: IssuerForSigning;
}

/** A root (ECDSA-P384, 10 years) and an issuing intermediate (ECDSA-P256, 1 year) created at NOW. */
export async function buildHierarchy(): Promise<Hierarchy> {
  const root = await createRootCa({
    commonName: 'Certflow Test Root CA',
    organization: 'Certflow Test',
    keyAlgorithm: 'ECDSA-P384',
    validityDays: ROOT_VALIDITY_DAYS,
    now: NOW,
    serial: randomSerial,
  });
  const intermediate = await createIntermediateCa(
    { certificate: root.certificate, signingKey: root.keys.privateKey, keyAlgorithm: root.keyAlgorithm },
    {
      commonName: 'Certflow Test Issuing CA 1',
      organization: 'Certflow Test',
      keyAlgorithm: 'ECDSA-P256',
      validityDays: INTERMEDIATE_VALIDITY_DAYS,
      now: NOW,
      serial: randomSerial,
    },
  );
  return {
    root,
    intermediate,
    issuer: { certificate: intermediate.certificate, signingKey: intermediate.keys.privateKey, keyAlgorithm: intermediate.keyAlgorithm },
  };
}

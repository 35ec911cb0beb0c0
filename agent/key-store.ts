/**
 * Private keys the agent made, in its state directory: `keys/<certificateId>/<generation>.pem`
 * (PKCS#8 PEM, mode 0600, directories 0700), written atomically. They never leave the host: the
 * API only ever sees CSRs. A deployment finds its key by the certificate's public key.
 */
import { createPublicKey } from 'node:crypto';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyAlgorithm } from '../core/types.js';
import { exportPrivateKeyPkcs8, generateKeyPair, privateKeyPem } from '../ca/keys.js';
import { writeFileAtomic } from '../host-files/atomic-write.js';

const CERTIFICATE_ID = /^crt_[a-z2-7]{20}$/;
/** Keys of this many generations are kept per certificate: the current one and the one a rollback needs. */
const KEEP_GENERATIONS = 2;

export class KeyStore {
  constructor(private readonly stateDirectory: string) {}

  /** The key of a generation: the one already made (an earlier attempt), or a new one. */
  async keyFor(certificateId: string, generation: number, algorithm: KeyAlgorithm): Promise<string> {
    const path = this.keyPath(certificateId, generation);
    const existing = await readFile(path, 'utf8').catch(() => null);
    if (existing !== null) return existing;
    const keys = await generateKeyPair(algorithm);
    const pkcs8 = await exportPrivateKeyPkcs8(keys.privateKey);
    const pem = privateKeyPem(pkcs8);
    pkcs8.fill(0);
    await mkdir(join(this.stateDirectory, 'keys', certificateId), { recursive: true, mode: 0o700 });
    await writeFileAtomic(path, pem);
    return pem;
  }

  /** The stored key of this certificate whose public key is `spkiDer`, or null. */
  async findBySpki(certificateId: string, spkiDer: Buffer): Promise<string | null> {
    for (const { path } of await this.keyFiles(certificateId)) {
      const pem = await readFile(path, 'utf8').catch(() => null);
      if (pem !== null && spkiOf(pem).equals(spkiDer)) return pem;
    }
    return null;
  }

  /** Forgets keys of generations older than the last KEEP_GENERATIONS up to `deployed`. */
  async prune(certificateId: string, deployed: number): Promise<void> {
    for (const { path, generation } of await this.keyFiles(certificateId)) {
      if (generation <= deployed - KEEP_GENERATIONS) await rm(path, { force: true });
    }
  }

  private keyPath(certificateId: string, generation: number): string {
    if (!CERTIFICATE_ID.test(certificateId) || !Number.isSafeInteger(generation) || generation < 1) {
      throw new Error(`refusing a key path for "${certificateId}" generation ${generation}`);
    }
    return join(this.stateDirectory, 'keys', certificateId, `${generation}.pem`);
  }

  private async keyFiles(certificateId: string): Promise<Array<{ path: string; generation: number }>> {
    if (!CERTIFICATE_ID.test(certificateId)) return [];
    const directory = join(this.stateDirectory, 'keys', certificateId);
    const names = await readdir(directory).catch(() => [] as string[]);
    return names.flatMap((name) => {
      const match = /^(\d+)\.pem$/.exec(name);
      return match ? [{ path: join(directory, name), generation: Number(match[1]) }] : [];
    });
  }
}

/** The DER SubjectPublicKeyInfo of a private key PEM. */
export function spkiOf(privateKeyPemText: string): Buffer {
  return createPublicKey(privateKeyPemText).export({ type: 'spki', format: 'der' });
}

/**
 * Atomic delivery of a certificate set into a directory, so a reader never sees a certificate
 * next to the wrong key:
 *   <dir>/versions/<generation>/{cert,chain,fullchain,key}.pem   written, fsynced, then
 *   <dir>/current -> versions/<generation>                       switched by one rename(2)
 *   <dir>/{cert,chain,fullchain,key}.pem -> current/<file>        stable paths for services
 * Writing the same generation twice is harmless (idempotent). Older generations beyond the last
 * two are pruned.
 */
import { chown, lchown, mkdir, readdir, readlink, rename, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { temporaryName, writeFileAtomic, type FileOwner } from './atomic-write.js';

export interface CertificateFiles {
  'cert.pem': string;
  'chain.pem': string;
  'fullchain.pem': string;
  'key.pem'?: string;
}

const KEEP_GENERATIONS = 2;

export async function writeCertificateFiles(directory: string, generation: number, files: CertificateFiles, owner?: FileOwner): Promise<void> {
  const versionsDir = join(directory, 'versions');
  const versionDir = join(versionsDir, String(generation));
  await mkdir(versionDir, { recursive: true, mode: 0o700 });
  if (owner) await chown(versionDir, owner.uid, owner.gid);
  for (const [name, content] of Object.entries(files)) {
    if (content !== undefined) await writeFileAtomic(join(versionDir, name), content, owner);
  }
  await replaceSymlink(join(directory, 'current'), join('versions', String(generation)), owner);
  for (const name of Object.keys(files)) {
    await replaceSymlink(join(directory, name), join('current', name), owner);
  }
  await pruneOldGenerations(versionsDir, generation);
}

async function replaceSymlink(path: string, target: string, owner?: FileOwner): Promise<void> {
  const current = await readlink(path).catch(() => null);
  if (current === target) return;
  const temporary = temporaryName(path);
  await symlink(target, temporary);
  if (owner) await lchown(temporary, owner.uid, owner.gid);
  await rename(temporary, path);
}

async function pruneOldGenerations(versionsDir: string, latest: number): Promise<void> {
  const entries = await readdir(versionsDir);
  for (const entry of entries) {
    const generation = Number(entry);
    if (Number.isInteger(generation) && generation <= latest - KEEP_GENERATIONS) {
      await rm(join(versionsDir, entry), { recursive: true, force: true });
    }
  }
}

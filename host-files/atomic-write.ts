/**
 * Writing one file so that a reader sees either the old content or the new, never a mix: a
 * temporary file beside it, written, fsynced, then renamed over it. Used for certificate files on
 * the worker's host and in the agent, and for the agent's private keys.
 */
import { open, rename } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';

export interface FileOwner {
  uid: number;
  gid: number;
}

/** Private keys and certificate sets alike: readable by their owner only. */
const FILE_MODE = 0o600;

export async function writeFileAtomic(path: string, content: string, owner?: FileOwner): Promise<void> {
  const temporary = temporaryName(path);
  const handle = await open(temporary, 'wx', FILE_MODE);
  try {
    await handle.writeFile(content, 'utf8');
    await handle.chmod(FILE_MODE);
    if (owner) await handle.chown(owner.uid, owner.gid);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, path);
}

/** Unique per call, so overlapping writers (a retry racing the attempt it replaces) never collide. */
export function temporaryName(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
}

/**
 * Makes sure a delivery directory below a root is reached through real directories only: every
 * path segment from the root down (and the `versions/` inside it) is created if missing and must be
 * a directory, never a symbolic link, so a link planted inside the root (by a delivery or by hand)
 * cannot send one certificate's files into another place. The root itself may be a link (the
 * operator's choice). A link is an UnsafeDirectoryError (final); anything else a plain Error.
 */
import { lstat, mkdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

export class UnsafeDirectoryError extends Error {
  override name = 'UnsafeDirectoryError';
}

export async function ensureRealDirectory(root: string, directory: string, inside: readonly string[] = ['versions']): Promise<void> {
  const segments = [...relative(root, directory).split(sep).filter(Boolean), ...inside];
  let path = root;
  for (const segment of segments) {
    path = join(path, segment);
    const found = await lstat(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return null;
      throw error;
    });
    if (found === null) {
      await mkdir(path, { mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      });
      const made = await lstat(path);
      if (made.isSymbolicLink()) throw new UnsafeDirectoryError(`${relative(root, path)} is a symbolic link; deliveries follow no links below the destination root`);
    } else if (found.isSymbolicLink()) {
      throw new UnsafeDirectoryError(`${relative(root, path)} is a symbolic link; deliveries follow no links below the destination root`);
    } else if (!found.isDirectory()) {
      // Not a refusal: someone may move the file away, and the next attempt succeeds.
      throw new Error(`${relative(root, path)} exists and is not a directory`);
    }
  }
}

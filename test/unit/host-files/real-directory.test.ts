import { lstat, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureRealDirectory, UnsafeDirectoryError } from '../../../host-files/real-directory.js';

let root: string;
let elsewhere: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'certflow-real-dir-'));
  elsewhere = await mkdtemp(join(tmpdir(), 'certflow-elsewhere-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
  await rm(elsewhere, { recursive: true, force: true });
});

describe('ensureRealDirectory', () => {
  it('ok/creates the missing directories and versions/ inside', async () => {
    await ensureRealDirectory(root, join(root, 'a', 'b'));
    expect((await lstat(join(root, 'a', 'b', 'versions'))).isDirectory()).toBe(true);
  });

  it('ok/existing real directories are fine', async () => {
    await mkdir(join(root, 'a', 'b', 'versions'), { recursive: true });
    await expect(ensureRealDirectory(root, join(root, 'a', 'b'))).resolves.toBeUndefined();
  });

  it.each([
    ['fail/the directory is a link', 'a/b', 'a/b'],
    ['fail/a parent is a link', 'a', 'a/b'],
    ['fail/versions is a link', 'a/b/versions', 'a/b'],
  ])('%s', async (_name, linked, target) => {
    const link = join(root, linked);
    await mkdir(join(link, '..'), { recursive: true });
    await symlink(elsewhere, link);
    await expect(ensureRealDirectory(root, join(root, target))).rejects.toThrow(UnsafeDirectoryError);
    expect(await readdir(elsewhere)).toEqual([]);
  });

  it('fail/a file where a directory should be', async () => {
    await writeFile(join(root, 'a'), 'not a directory');
    await expect(ensureRealDirectory(root, join(root, 'a', 'b'))).rejects.toThrow(/exists and is not a directory/);
  });
});

import { lstat, mkdtemp, readdir, readFile, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { writeCertificateFiles, type CertificateFiles } from '../../../host-files/certificate-files.js';

const STABLE = ['cert.pem', 'chain.pem', 'fullchain.pem', 'key.pem'] as const;

/** A recognisable certificate set for one generation. */
function filesFor(generation: number, withKey = true): CertificateFiles {
  const files: CertificateFiles = {
    'cert.pem': `cert ${generation}\n`,
    'chain.pem': `chain ${generation}\n`,
    'fullchain.pem': `cert ${generation}\nchain ${generation}\n`,
  };
  if (withKey) files['key.pem'] = `key ${generation}\n`;
  return files;
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'certflow-file-writer-'));
});
afterEach(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

const generations = async (): Promise<string[]> => (await readdir(join(dir, 'versions'))).sort();
const leftovers = async (path: string): Promise<string[]> => (await readdir(path)).filter((name) => name.includes('.tmp-'));

/** Every stable path reads the content of `generation` through `current`. */
async function expectServing(generation: number, withKey = true): Promise<void> {
  expect(await readlink(join(dir, 'current'))).toBe(join('versions', String(generation)));
  const want = filesFor(generation, withKey);
  for (const name of STABLE) {
    const content = want[name];
    if (content === undefined) continue;
    expect((await lstat(join(dir, name))).isSymbolicLink()).toBe(true);
    expect(await readlink(join(dir, name))).toBe(join('current', name));
    expect(await readFile(join(dir, name), 'utf8')).toBe(content);
    expect(await readFile(join(dir, 'versions', String(generation), name), 'utf8')).toBe(content);
  }
}

describe('writeCertificateFiles', () => {
  const single: { name: string; generation: number; withKey: boolean }[] = [
    { name: 'ok/generation 1 with key', generation: 1, withKey: true },
    { name: 'ok/generation 1 without key.pem', generation: 1, withKey: false },
    { name: 'ok/first write at generation 7', generation: 7, withKey: true },
  ];
  it.each(single)('$name', async ({ generation, withKey }) => {
    await writeCertificateFiles(dir, generation, filesFor(generation, withKey));
    await expectServing(generation, withKey);
    expect(await generations()).toEqual([String(generation)]);

    const versionDir = join(dir, 'versions', String(generation));
    const written = (await readdir(versionDir)).sort();
    expect(written).toEqual(withKey ? [...STABLE].sort() : ['cert.pem', 'chain.pem', 'fullchain.pem']);
    for (const name of written) expect((await stat(join(versionDir, name))).mode & 0o777).toBe(0o600);
    expect((await stat(versionDir)).mode & 0o777).toBe(0o700);

    if (!withKey) await expect(lstat(join(dir, 'key.pem'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await leftovers(dir)).toEqual([]);
    expect(await leftovers(versionDir)).toEqual([]);
  });

  it('ok/idempotent when the same generation is written again', async () => {
    await writeCertificateFiles(dir, 1, filesFor(1));
    const before = await lstat(join(dir, 'current'));
    await writeCertificateFiles(dir, 1, filesFor(1));
    await writeCertificateFiles(dir, 1, filesFor(1));
    await expectServing(1);
    expect(await generations()).toEqual(['1']);
    // the `current` link is left alone when it already points at the generation
    expect((await lstat(join(dir, 'current'))).ino).toBe(before.ino);
    expect(await leftovers(dir)).toEqual([]);
  });

  it('ok/generation 2 switches current and keeps generation 1', async () => {
    await writeCertificateFiles(dir, 1, filesFor(1));
    await writeCertificateFiles(dir, 2, filesFor(2));
    await expectServing(2);
    expect(await generations()).toEqual(['1', '2']);
    expect(await readFile(join(dir, 'versions', '1', 'cert.pem'), 'utf8')).toBe('cert 1\n');
  });

  it('ok/generation 4 prunes generations ≤ 2', async () => {
    for (const generation of [1, 2, 3, 4]) await writeCertificateFiles(dir, generation, filesFor(generation));
    await expectServing(4);
    expect(await generations()).toEqual(['3', '4']);
  });

  it('ok/a jump from generation 1 to 4 prunes generation 1', async () => {
    await writeCertificateFiles(dir, 1, filesFor(1));
    await writeCertificateFiles(dir, 4, filesFor(4));
    await expectServing(4);
    expect(await generations()).toEqual(['4']);
  });

  it('ok/re-delivering an older generation switches back without pruning newer ones', async () => {
    for (const generation of [1, 2, 3]) await writeCertificateFiles(dir, generation, filesFor(generation));
    await writeCertificateFiles(dir, 2, filesFor(2));
    await expectServing(2);
    expect(await generations()).toEqual(['2', '3']);
  });

  it('ok/renewals without key.pem', async () => {
    for (const generation of [1, 2, 3]) await writeCertificateFiles(dir, generation, filesFor(generation, false));
    await expectServing(3, false);
    expect(await generations()).toEqual(['2', '3']);
    await expect(lstat(join(dir, 'key.pem'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('ok/creates a missing destination directory', async () => {
    const nested = join(dir, 'a', 'b');
    await writeCertificateFiles(nested, 1, filesFor(1));
    expect(await readFile(join(nested, 'cert.pem'), 'utf8')).toBe('cert 1\n');
  });

  it('ok/content is written exactly (PEM with CRLF and a large chain)', async () => {
    const files: CertificateFiles = { 'cert.pem': 'a\r\nb\r\n', 'chain.pem': 'x'.repeat(1 << 20), 'fullchain.pem': '' };
    await writeCertificateFiles(dir, 1, files);
    expect(await readFile(join(dir, 'cert.pem'), 'utf8')).toBe(files['cert.pem']);
    expect(await readFile(join(dir, 'chain.pem'), 'utf8')).toBe(files['chain.pem']);
    expect(await readFile(join(dir, 'fullchain.pem'), 'utf8')).toBe('');
  });

  it('ok/two overlapping writes of the same generation in the same millisecond both succeed', async () => {
    // e.g. an activity retry that overlaps the attempt it replaces, on the same worker
    vi.spyOn(Date, 'now').mockReturnValue(1_750_000_000_000);
    const results = await Promise.allSettled([writeCertificateFiles(dir, 1, filesFor(1)), writeCertificateFiles(dir, 1, filesFor(1))]);
    expect(results.map((result) => (result.status === 'rejected' ? String(result.reason) : 'ok'))).toEqual(['ok', 'ok']);
    await expectServing(1);
  });

  // chown needs root (CI runs as root); elsewhere the ownership cannot be given away and the case is skipped.
  it.runIf(process.getuid?.() === 0)('ok/owner: the version directory, every file and the symlinks belong to the given uid:gid', async () => {
    const owner = { uid: 4321, gid: 4322 };
    await writeCertificateFiles(dir, 1, filesFor(1), owner);
    const versionDir = join(dir, 'versions', '1');
    for (const path of [versionDir, ...STABLE.map((name) => join(versionDir, name))]) {
      expect(await stat(path), path).toMatchObject(owner);
    }
    for (const path of [join(dir, 'current'), ...STABLE.map((name) => join(dir, name))]) {
      expect(await lstat(path), path).toMatchObject(owner);
    }
    await expectServing(1);
  });
});

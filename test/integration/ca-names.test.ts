/**
 * The CA's distinguished names (CERTFLOW_CA_*, cmd/config.ts) name the root and the intermediate when
 * the hierarchy is created, countryName included (openssl reads them back); once it exists, a changed
 * setting is logged and not applied. Each case runs in a database of its own (a new hierarchy).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureCaHierarchy } from '../../activities/ca-bootstrap.js';
import { AuditKey } from '../../db/audit-chain.js';
import { loadConfig } from '../../cmd/config.js';
import { createDatabase, type Database } from '../../db/database.js';
import { findIssuer, listIssuers } from '../../db/issuers.js';
import { applyMigrations } from '../../db/migrate.js';
import { createPool } from '../../db/postgres-pool.js';
import { TEST_AUDIT_KEY_HEX, TEST_PUBLIC_URL } from '../support/harness.js';
import { useIntegrationSuite } from '../support/integration-suite.js';
import { makeTempDir, openssl } from '../unit/ca/support.js';

const suite = useIntegrationSuite('ca-names');
const stops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
});

async function freshDatabase(): Promise<Database> {
  const name = `ca_names_${randomBytes(4).toString('hex')}`;
  await suite.harness.pool.query(`create database ${name}`);
  const url = new URL(suite.harness.databaseUrl);
  url.pathname = `/${name}`;
  const pool = createPool(url.toString(), () => undefined);
  stops.push(() => pool.end());
  await applyMigrations(pool);
  return createDatabase(pool, { auditKey: AuditKey.fromSecret(Buffer.from(TEST_AUDIT_KEY_HEX, 'hex')) });
}

/** `openssl x509 -noout -subject` of a PEM certificate, RFC 2253 with UTF-8 shown as is. */
async function subjectOf(pem: string): Promise<string> {
  const dir = await makeTempDir('ca-names');
  try {
    const file = await dir.write('ca.pem', pem);
    const run = await openssl(['x509', '-in', file, '-noout', '-subject', '-nameopt', 'RFC2253,-esc_msb']);
    expect(run.code, run.stderr).toBe(0);
    return run.stdout.trim();
  } finally {
    await dir.remove();
  }
}

async function hierarchy(db: Database, names: NodeJS.ProcessEnv, log: (line: string) => void = () => undefined) {
  const intermediate = await ensureCaHierarchy(db, randomBytes(32), { ...loadConfig(names).caNames, publicUrl: TEST_PUBLIC_URL, now: new Date('2027-03-01T00:00:00Z'), log });
  const root = await findIssuer(db, intermediate.parentId!);
  return { intermediate, root: root! };
}

describe('CA distinguished names', () => {
  it('ok/configured names, countryName included, as openssl reads them', async () => {
    const db = await freshDatabase();
    const { intermediate, root } = await hierarchy(db, {
      CERTFLOW_CA_ORGANIZATION: 'Bücher GmbH',
      CERTFLOW_CA_COUNTRY: 'DE',
      CERTFLOW_CA_ROOT_CN: 'Bücher Root CA R1',
      CERTFLOW_CA_INTERMEDIATE_CN: 'Bücher Issuing CA I1',
    });
    expect(await subjectOf(root.certificatePem)).toBe('subject=CN=Bücher Root CA R1,O=Bücher GmbH,C=DE');
    expect(await subjectOf(intermediate.certificatePem)).toBe('subject=CN=Bücher Issuing CA I1,O=Bücher GmbH,C=DE');
  });

  it('ok/the defaults: organization Certflow, country XX, common names with the year', async () => {
    const db = await freshDatabase();
    const { intermediate, root } = await hierarchy(db, {});
    expect(await subjectOf(root.certificatePem)).toBe('subject=CN=Certflow Root CA 2027,O=Certflow,C=XX');
    expect(await subjectOf(intermediate.certificatePem)).toBe('subject=CN=Certflow Issuing CA 2027 1,O=Certflow,C=XX');
  });

  it('fail/a changed setting after creation is logged and not applied', async () => {
    const db = await freshDatabase();
    const first = await hierarchy(db, { CERTFLOW_CA_ORGANIZATION: 'Acme', CERTFLOW_CA_COUNTRY: 'FR' });
    const lines: string[] = [];
    const again = await hierarchy(db, { CERTFLOW_CA_ORGANIZATION: 'Acme Corp', CERTFLOW_CA_COUNTRY: 'FR', CERTFLOW_CA_ROOT_CN: 'Acme Root' }, (line) => lines.push(line));
    expect(again.intermediate.id).toBe(first.intermediate.id);
    expect(await listIssuers(db)).toHaveLength(2);
    expect(await subjectOf(again.intermediate.certificatePem)).toBe('subject=CN=Acme Issuing CA 2027 1,O=Acme,C=FR');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('CA names not applied: CERTFLOW_CA_ORGANIZATION is "Acme Corp" but the CA has "Acme"; CERTFLOW_CA_ROOT_CN is "Acme Root" but the CA has "Acme Root CA 2027"');
    expect(lines[0]).not.toContain('CERTFLOW_CA_COUNTRY');

    const quiet: string[] = [];
    await hierarchy(db, { CERTFLOW_CA_ORGANIZATION: 'Acme' }, (line) => quiet.push(line));
    expect(quiet).toEqual([]);
  });
});

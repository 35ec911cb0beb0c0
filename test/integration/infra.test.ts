import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { SEARCH_ATTRIBUTES } from '../../core/search-attributes.js';
import { startEmbeddedPostgres } from '../../devservices/embedded-postgres.js';
import {
  listCustomSearchAttributes,
  startTemporalDevServer,
  type TemporalDevServer,
} from '../../devservices/temporal-dev-server.js';

const CERTIFICATE_ID = defineSearchAttributeKey('CertificateId', SearchAttributeType.KEYWORD);

async function withTemporal<T>(address: string, fn: (connection: Connection) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({ address });
  try {
    return await fn(connection);
  } finally {
    await connection.close();
  }
}

async function withPostgres<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

describe('shared integration servers', () => {
  it('Postgres answers select 1', async () => {
    const rows = await withPostgres(inject('databaseUrl'), async (client) => (await client.query('select 1 as one')).rows);
    expect(rows).toEqual([{ one: 1 }]);
  });

  it('Temporal answers and has every search attribute registered', async () => {
    await withTemporal(inject('temporalAddress'), async (connection) => {
      const info = await connection.workflowService.getSystemInfo({});
      expect(info.serverVersion).toBeTruthy();
      const registered = await listCustomSearchAttributes(connection, inject('temporalNamespace'));
      expect(registered).toMatchObject(SEARCH_ATTRIBUTES);
    });
  });
});

describe('restarts on the same data', () => {
  it('a Temporal dev server keeps search attributes and workflows across stop and kill', { timeout: 120_000 }, async () => {
    const dbFile = path.join(inject('tempDir'), 'temporal-restart', 'temporal.db');
    const workflowId = `infra-restart-${Date.now()}`;

    const expectStateSurvived = async (server: TemporalDevServer) =>
      withTemporal(server.address, async (connection) => {
        expect(await listCustomSearchAttributes(connection, server.namespace)).toMatchObject(SEARCH_ATTRIBUTES);
        const client = new Client({ connection, namespace: server.namespace });
        const description = await client.workflow.getHandle(workflowId).describe();
        expect(description.status.name).toBe('RUNNING');
        expect(description.typedSearchAttributes.get(CERTIFICATE_ID)).toBe('cert-1');
      });

    let server = await startTemporalDevServer({ dbFile, uiPort: null });
    try {
      await withTemporal(server.address, async (connection) => {
        const client = new Client({ connection, namespace: server.namespace });
        // No worker polls this task queue: the workflow just stays RUNNING in the database.
        await client.workflow.start('infraProbe', {
          taskQueue: 'infra-test-no-worker',
          workflowId,
          typedSearchAttributes: [{ key: CERTIFICATE_ID, value: 'cert-1' }],
        });
      });

      await server.stop();
      server = await startTemporalDevServer({ dbFile, uiPort: null });
      await expectStateSurvived(server);

      await server.kill();
      server = await startTemporalDevServer({ dbFile, uiPort: null });
      await expectStateSurvived(server);
    } finally {
      await server.stop();
    }
  });

  it('an embedded Postgres keeps its data across stop and kill', { timeout: 120_000 }, async () => {
    const dataDir = path.join(inject('tempDir'), 'postgres-restart');
    const countRows = (url: string) =>
      withPostgres(url, async (client) => (await client.query('select count(*)::int as n from probe')).rows[0].n);

    let postgres = await startEmbeddedPostgres({ dataDir });
    try {
      await withPostgres(postgres.url, (client) => client.query('create table probe (id int); insert into probe values (1)'));

      await postgres.stop();
      postgres = await startEmbeddedPostgres({ dataDir });
      expect(await countRows(postgres.url)).toBe(1);

      await postgres.kill();
      postgres = await startEmbeddedPostgres({ dataDir });
      expect(await countRows(postgres.url)).toBe(1);
    } finally {
      await postgres.stop();
    }
  });
});

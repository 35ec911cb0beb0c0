/**
 * Finalize's wait for the signature (api/acme/issuance-notices.ts) against real Postgres: the
 * worker's announcement (db/acme-orders.ts, NOTIFY after the version is recorded) reaches a waiter
 * registered for that certificate generation, and only that one; a wait nobody answers ends with null.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IssuanceNotices } from '../../api/acme/issuance-notices.js';
import { announceAcmeVersion } from '../../db/acme-orders.js';
import { createHarness, type Harness } from '../support/harness.js';

describe('ACME issuance notices', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await createHarness('acme-notices', { bootstrapCa: false });
  });
  afterAll(async () => {
    await harness?.close();
  });

  it('hands the announced version id to the waiter of that generation, and only to it', async () => {
    const notices = new IssuanceNotices(harness.pool);
    expect(await notices.listening()).toBe(true);
    const first = notices.expect('crt_notices_a', 1, 10_000);
    const other = notices.expect('crt_notices_a', 2, 1_000);
    await announceAcmeVersion(harness.db, { certificateId: 'crt_notices_a', generation: 1, id: 'ver_one' });
    expect(await first.version).toBe('ver_one');
    expect(await other.version).toBeNull();
  });

  it('ends a wait nobody answers with null once its time is up', async () => {
    const notices = new IssuanceNotices(harness.pool);
    expect(await notices.listening()).toBe(true);
    const started = Date.now();
    expect(await notices.expect('crt_notices_b', 1, 300).version).toBeNull();
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });
});

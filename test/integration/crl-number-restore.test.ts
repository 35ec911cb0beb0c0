/**
 * CRL numbers after a Postgres restore: the database's counter goes back to the backup's value, but
 * CRLs with higher numbers were already published (hourly, and on every revocation). Every CRL published
 * afterwards, including the worker's start-up publication that runs before `certflow reconcile`, must
 * still carry a number above all of them (RFC 5280 §5.2.3): relying parties keep the CRL with the
 * highest number, so a reused number hides the revocations it lists.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listPublishingIssuers, publishCrl } from '../../activities/publish-crl.js';
import { x509 } from '../../ca/x509.js';
import { issuerCrls } from '../../db/schema.js';
import { activityDeps, createHarness, type Harness } from '../support/harness.js';

describe('CRL numbers after a database restore', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await createHarness('crl-restore');
  }, 120_000);
  afterAll(async () => {
    await harness?.close();
  });

  it('a CRL published after the counter went back still carries a number above every one published before', async () => {
    const deps = activityDeps(harness);
    const [issuerId] = await listPublishingIssuers(deps);
    const atBackup = await publishCrl(deps, { issuerId: issuerId! });
    const published: bigint[] = [BigInt(atBackup.crlNumber)];
    for (let hour = 0; hour < 5; hour++) published.push(BigInt((await publishCrl(deps, { issuerId: issuerId! })).crlNumber));

    // The restore: the stored CRL (and its number) is the backup's again.
    await harness.db.update(issuerCrls).set({ crlNumber: BigInt(atBackup.crlNumber) }).where(eq(issuerCrls.issuerId, issuerId!));

    const afterRestore = await publishCrl(deps, { issuerId: issuerId! });
    const highestBefore = published.reduce((a, b) => (a > b ? a : b));
    expect(BigInt(afterRestore.crlNumber)).toBeGreaterThan(highestBefore);
    // The number in the signed CRL itself, not only the column.
    const [row] = await harness.db.select().from(issuerCrls).where(eq(issuerCrls.issuerId, issuerId!));
    const crl = new x509.X509Crl(new Uint8Array(row!.crlDer));
    const extension = crl.extensions.find((candidate) => candidate.type === '2.5.29.20')!;
    const der = Buffer.from(extension.value);
    // INTEGER: 02 <len> <big-endian bytes>
    expect(BigInt(`0x${der.subarray(2, 2 + der[1]!).toString('hex')}`)).toBe(BigInt(afterRestore.crlNumber));
    // And still one more each time.
    expect(BigInt((await publishCrl(deps, { issuerId: issuerId! })).crlNumber)).toBeGreaterThan(BigInt(afterRestore.crlNumber));
  });
});

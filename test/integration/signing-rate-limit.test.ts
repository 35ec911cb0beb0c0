/**
 * The signer's protection: signings go through their own task queue, which the Temporal server
 * dispatches at most CERTFLOW_SIGNER_MAX_PER_SECOND per second. 24 certificates wait for a worker;
 * when one starts with a limit of 4 per second, their 24 signings (all ready at once) are spread
 * over at least ~5 s (a burst of about one second's worth, then 4 per second), where unlimited
 * they take well under a second or two.
 */
import { inArray } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { certificateVersions } from '../../db/schema.js';
import { startInProcessWorker, type InProcessWorker } from '../support/harness.js';
import { useIntegrationSuite } from '../support/integration-suite.js';

const COUNT = 24;
const LIMIT_PER_SECOND = 4;

let worker: InProcessWorker | undefined;
const suite = useIntegrationSuite('signing-rate', { team: true, teardown: () => worker?.stop() });

describe('signing task queue rate limit', () => {
  it(`signs ${COUNT} waiting certificates no faster than ${LIMIT_PER_SECOND} per second`, async () => {
    // Requested while no worker polls: every issuance is ready when the worker starts.
    const ids: string[] = [];
    for (let index = 0; index < COUNT; index++) {
      ids.push((await suite.certificates.create({ team: suite.team.teamName, dnsNames: [`s${index}.example.test`], validity: 'P7D' })).id);
    }
    worker = await startInProcessWorker(suite.harness, suite.harness.temporalAddress, {}, { maxPerSecond: LIMIT_PER_SECOND, maxConcurrent: COUNT });
    for (const id of ids) await suite.certificates.waitFor(id, (view) => view.state === 'active', { timeoutMs: 90_000, what: `${id} active` });

    const versions = await suite.harness.db.select({ createdAt: certificateVersions.createdAt }).from(certificateVersions).where(inArray(certificateVersions.certificateId, ids));
    expect(versions).toHaveLength(COUNT);
    const times = versions.map((version) => version.createdAt.getTime()).sort((a, b) => a - b);
    const spreadSeconds = (times.at(-1)! - times[0]!) / 1000;
    // Unlimited, 24 ECDSA signings ready at once end within a second or two; at 4/s after a burst of ~4, ≥ 5 s.
    expect(spreadSeconds).toBeGreaterThanOrEqual((COUNT - 2 * LIMIT_PER_SECOND) / LIMIT_PER_SECOND);
  });
});

/**
 * Property: certificates created concurrently are each listed exactly once, in one stable order,
 * by paging `GET /v1/certificates` at every page size from 1 to 200. Many of them share a
 * millisecond (checked), which is what a millisecond cursor got wrong.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeaders, createHarness, createTeamWithTokens, type Harness } from '../support/harness.js';

const CERTIFICATES = 2_000;
const CREATE_CONCURRENCY = 48;
const LIST_CONCURRENCY = 4;
const PAGE_SIZES = Array.from({ length: 200 }, (_, index) => index + 1);

async function inParallel<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

describe('GET /v1/certificates paging', () => {
  let harness: Harness;
  let team: Awaited<ReturnType<typeof createTeamWithTokens>>;
  let expected: string[];
  /** The millisecond of each row of `expected`. */
  let rowMilliseconds: string[];

  beforeAll(async () => {
    harness = await createHarness('paging');
    team = await createTeamWithTokens(harness);
    const started = Date.now();
    // Through the real create path (no worker polls this file's task queue, so nothing is issued).
    await inParallel(
      Array.from({ length: CERTIFICATES }, (_, index) => index),
      CREATE_CONCURRENCY,
      async (index) => {
        const response = await harness.app.request('/v1/certificates', {
          method: 'POST',
          headers: authHeaders(team.requester),
          body: JSON.stringify({ team: team.teamName, dnsNames: [`page-${index}.example.test`], validity: 'P7D' }),
        });
        if (response.status !== 202) throw new Error(`create ${index}: ${response.status} ${await response.text()}`);
      },
    );
    console.info(`created ${CERTIFICATES} certificates through POST /v1/certificates in ${Date.now() - started} ms`);
    const { rows } = await harness.pool.query<{ id: string; millisecond: string }>(
      `select id, to_char(created_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS') as millisecond
         from certificates where team_id = $1 order by created_at desc, id desc`,
      [team.teamId],
    );
    expected = rows.map((row) => row.id);
    rowMilliseconds = rows.map((row) => row.millisecond);
  }, 600_000);

  afterAll(async () => {
    await harness?.close();
  });

  it('has many certificates sharing a millisecond', async () => {
    expect(expected).toHaveLength(CERTIFICATES);
    const { rows } = await harness.pool.query<{ milliseconds: string; sharing: string; microseconds: string }>(
      `select count(distinct date_trunc('milliseconds', created_at)) as milliseconds,
              count(distinct created_at) as microseconds,
              (select count(*) from (select 1 from certificates where team_id = $1
                 group by date_trunc('milliseconds', created_at) having count(*) > 1) as shared) as sharing
         from certificates where team_id = $1`,
      [team.teamId],
    );
    const { milliseconds, sharing, microseconds } = rows[0]!;
    console.info(`${CERTIFICATES} certificates: ${milliseconds} distinct milliseconds, ${microseconds} distinct microseconds, ${sharing} milliseconds shared by 2 or more`);
    expect(Number(milliseconds)).toBeLessThan(CERTIFICATES - 100);
    expect(Number(sharing)).toBeGreaterThanOrEqual(50);
    // Page boundaries inside a shared millisecond, where a millisecond cursor skipped rows.
    const boundaries = PAGE_SIZES.flatMap((size) =>
      Array.from({ length: Math.ceil(CERTIFICATES / size) - 1 }, (_, page) => (page + 1) * size - 1).filter((last) => rowMilliseconds[last] === rowMilliseconds[last + 1]),
    );
    console.info(`${boundaries.length} page boundaries (over all sizes) fall inside a shared millisecond`);
    expect(boundaries.length).toBeGreaterThanOrEqual(100);
  });

  it('lists each certificate exactly once, in the same order, at every page size from 1 to 200', async () => {
    const started = Date.now();
    let requests = 0;
    const failures: string[] = [];
    await inParallel(PAGE_SIZES, LIST_CONCURRENCY, async (size) => {
      const listed: string[] = [];
      let cursor: string | null = null;
      do {
        const query: string = `/v1/certificates?team=${team.teamName}&limit=${size}${cursor ? `&cursor=${cursor}` : ''}`;
        const response = await harness.app.request(query, { headers: authHeaders(team.requester, false) });
        requests += 1;
        if (response.status !== 200) throw new Error(`size ${size}: ${response.status} ${await response.text()}`);
        const page = (await response.json()) as { items: Array<{ id: string }>; nextCursor: string | null };
        // Every page but the last is full; the last one says so with a null cursor.
        if (page.nextCursor !== null && page.items.length !== size) failures.push(`size ${size}: a page of ${page.items.length} with a cursor`);
        listed.push(...page.items.map((item) => item.id));
        cursor = page.nextCursor;
      } while (cursor);
      const seen = new Set(listed);
      const missing = expected.filter((id) => !seen.has(id)).length;
      const duplicates = listed.length - seen.size;
      if (missing || duplicates) failures.push(`size ${size}: ${missing} missing, ${duplicates} listed twice`);
      else if (listed.join() !== expected.join()) failures.push(`size ${size}: another order`);
    });
    console.info(`${PAGE_SIZES.length} page sizes: ${requests} list requests in ${Date.now() - started} ms`);
    expect(failures).toEqual([]);
    // ceil(2000 / size) pages each: the listing reads one row more than it returns, so no empty last page.
    expect(requests).toBe(PAGE_SIZES.reduce((sum, size) => sum + Math.ceil(CERTIFICATES / size), 0));
  }, 600_000);
});

/**
 * `GET /v1/certificates/:id/audit-events` pages through all of a certificate's events (it used to
 * stop at the newest 200), each once, newest first, at every page size.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCursor } from '../../api/cursor.js';
import { appendAuditEvent } from '../../db/audit.js';
import { authHeaders, createHarness, createTeamWithTokens, type Harness } from '../support/harness.js';

const EVENTS = 230;

describe('audit event paging', () => {
  let harness: Harness;
  let token: string;
  let certificateId: string;
  let expected: number[];

  beforeAll(async () => {
    harness = await createHarness('audit-paging');
    const team = await createTeamWithTokens(harness);
    token = team.requester;
    const response = await harness.app.request('/v1/certificates', {
      method: 'POST',
      headers: authHeaders(token),
      body: JSON.stringify({ team: team.teamName, dnsNames: ['audit.example.test'], validity: 'P7D' }),
    });
    expect(response.status).toBe(202);
    certificateId = ((await response.json()) as { id: string }).id;
    for (let index = 0; index < EVENTS; index++) {
      await appendAuditEvent(harness.db, { at: new Date(), actor: 'test', action: 'test.event', teamId: team.teamId, certificateId, details: { index } });
    }
    const { rows } = await harness.pool.query<{ seq: string }>('select seq from audit_events where certificate_id = $1 order by seq desc', [certificateId]);
    expected = rows.map((row) => Number(row.seq));
  });

  afterAll(async () => {
    await harness?.close();
  });

  async function page(query: string) {
    const response = await harness.app.request(`/v1/certificates/${certificateId}/audit-events${query}`, { headers: authHeaders(token, false) });
    return { status: response.status, body: (await response.json()) as { items: Array<{ seq: number }>; nextCursor: string | null } };
  }

  it('keeps the first page as it was: the newest 200, now with a cursor to the rest', async () => {
    expect(expected.length).toBeGreaterThanOrEqual(EVENTS);
    const first = await page('');
    expect(first.body.items.map((item) => item.seq)).toEqual(expected.slice(0, 200));
    expect(first.body.nextCursor).not.toBeNull();
  });

  it('lists every event once, newest first, at page sizes 1, 2, 3, 7, 50, 199 and 200', async () => {
    for (const size of [1, 2, 3, 7, 50, 199, 200]) {
      const listed: number[] = [];
      let cursor: string | null = null;
      do {
        const { status, body }: Awaited<ReturnType<typeof page>> = await page(`?limit=${size}${cursor ? `&cursor=${cursor}` : ''}`);
        expect(status).toBe(200);
        listed.push(...body.items.map((item) => item.seq));
        cursor = body.nextCursor;
      } while (cursor);
      expect(listed, `size ${size}`).toEqual(expected);
    }
  });

  it("refuses another listing's cursor, an altered one and an unknown parameter with 400", async () => {
    const queries = [
      `?cursor=${encodeCursor('certificates', { at: '2027-01-31T09:15:02.123456Z', id: certificateId })}`,
      `?cursor=${Buffer.from(JSON.stringify({ v: 2, list: 'audit-events', seq: -1 })).toString('base64url')}`,
      '?cursor=12',
      '?limit=201',
      '?after=3',
    ];
    for (const query of queries) expect((await page(query)).status, query).toBe(400);
  });
});

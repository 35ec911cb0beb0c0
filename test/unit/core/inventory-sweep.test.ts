import { describe, expect, it } from 'vitest';
import { decideSweep, type SweepFacts } from '../../../core/inventory-sweep.js';

const DAY = 86_400_000;
const now = new Date('2026-12-01T00:00:00Z');

/** A 6-day certificate issued a day ago: 5 days left, renewal due at about 4 days in (not yet). */
function facts(overrides: Partial<SweepFacts> = {}): SweepFacts {
  return {
    certificateId: 'crt_a',
    state: 'active',
    managed: true,
    keySource: 'server',
    renewBeforeSeconds: null,
    version: { id: 'ver_a', generation: 2, issuedAt: new Date(now.getTime() - DAY), notAfter: new Date(now.getTime() + 5 * DAY) },
    workflow: { kind: 'running', certState: 'active', attempt: 0 },
    ...overrides,
  };
}

describe('decideSweep', () => {
  it.each([
    { name: 'ok/healthy and running: nothing', facts: facts(), action: 'none', notice: null },
    { name: 'ok/terminated with a version: restart and warn', facts: facts({ workflow: { kind: 'closed' } }), action: 'restart', notice: 7 },
    { name: 'ok/never started: restart and warn', facts: facts({ workflow: { kind: 'not_found' } }), action: 'restart', notice: 7 },
    { name: 'ok/running but failed: warn', facts: facts({ state: 'failed', workflow: { kind: 'running', certState: 'failed', attempt: 1 } }), action: 'none', notice: 7 },
    { name: 'ok/running, retrying for the third time: warn', facts: facts({ workflow: { kind: 'running', certState: 'renewing', attempt: 3 } }), action: 'none', notice: 7 },
    {
      name: 'ok/active but renewal overdue: warn',
      facts: facts({ version: { id: 'ver_a', generation: 2, issuedAt: new Date(now.getTime() - 25 * DAY), notAfter: new Date(now.getTime() + 5 * DAY) } }),
      action: 'none',
      notice: 7,
    },
    { name: 'ok/not managed (tracked only): warn, never restart', facts: facts({ managed: false, workflow: { kind: 'not_found' } }), action: 'none', notice: 7 },
    { name: 'fail/Temporal did not answer: decide nothing', facts: facts({ workflow: { kind: 'unknown' } }), action: 'none', notice: null },
    { name: 'fail/no version yet: alert, do not restart (approval)', facts: facts({ state: 'awaiting_approval', version: null, workflow: { kind: 'closed' } }), action: 'alert', notice: null },
    { name: 'fail/ACME: alert (the client renews)', facts: facts({ keySource: 'acme', workflow: { kind: 'closed' } }), action: 'alert', notice: 7 },
    { name: 'fail/Kubernetes (cert-manager): alert, never restarted (the client renews)', facts: facts({ keySource: 'kubernetes', workflow: { kind: 'closed' } }), action: 'alert', notice: 7 },
    { name: 'fail/revoking: alert', facts: facts({ state: 'revoking', workflow: { kind: 'closed' } }), action: 'alert', notice: 7 },
    { name: 'fail/revoked: nothing', facts: facts({ state: 'revoked', workflow: { kind: 'closed' } }), action: 'none', notice: null },
    { name: 'ok/far from expiry and not running: restart, no notice', facts: facts({ version: { id: 'v', generation: 1, issuedAt: now, notAfter: new Date(now.getTime() + 60 * DAY) }, workflow: { kind: 'closed' } }), action: 'restart', notice: null },
  ])('$name', ({ facts: input, action, notice }) => {
    const decision = decideSweep(input, now);
    expect(decision.action.kind).toBe(action);
    expect(decision.expiryNotice).toBe(notice);
  });
});

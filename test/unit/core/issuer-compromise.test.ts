import { describe, expect, it } from 'vitest';
import { MAX_COMMON_NAME_LENGTH, compromiseBulkReason, issuerCompromiseWorkflowId, secondsBetween, successorCommonName } from '../../../core/issuer-compromise.js';
import { derivedId } from '../../../db/issuer-compromise.js';

describe('successorCommonName', () => {
  const cases: { name: string; input: string; want: string }[] = [
    { name: 'ok/raises a trailing generation', input: 'Certflow Issuing CA 2026 1', want: 'Certflow Issuing CA 2026 2' },
    { name: 'ok/raises past 9', input: 'Issuing CA 9', want: 'Issuing CA 10' },
    { name: 'ok/adds a generation when there is none', input: 'Payments Issuing CA', want: 'Payments Issuing CA 2' },
    { name: 'ok/a year alone counts as the generation', input: 'Issuing CA 2026', want: 'Issuing CA 2027' },
  ];
  for (const { name, input, want } of cases) it(name, () => expect(successorCommonName(input)).toBe(want));

  it('ok/stays within the X.520 bound, keeping the generation', () => {
    const long = `${'A'.repeat(MAX_COMMON_NAME_LENGTH - 2)} 9`;
    const next = successorCommonName(long);
    expect(next.length).toBeLessThanOrEqual(MAX_COMMON_NAME_LENGTH);
    expect(next.endsWith(' 10')).toBe(true);
  });
});

describe('drill naming', () => {
  it('ok/workflow id and bulk reason', () => {
    expect(issuerCompromiseWorkflowId('iss_abc')).toBe('issuer-compromise/iss_abc');
    expect(compromiseBulkReason('iss_abc', 'key leaked')).toBe('issuer iss_abc compromised: key leaked');
    expect(secondsBetween('2026-01-01T00:00:00.000Z', '2026-01-01T00:00:03.456Z')).toBe(3.46);
  });

  it('ok/derived ids are stable, newId-shaped and distinct per seed', () => {
    const a = derivedId('iss', 'successor-of:iss_one');
    expect(a).toMatch(/^iss_[a-z2-7]{20}$/);
    expect(derivedId('iss', 'successor-of:iss_one')).toBe(a);
    expect(derivedId('iss', 'successor-of:iss_two')).not.toBe(a);
    expect(derivedId('blk', 'successor-of:iss_one')).not.toBe(a.replace('iss_', 'blk_'));
  });
});

import { describe, expect, it } from 'vitest';
import { failureReasonLabel, OTHER_TEAMS_LABEL, snakeCase, teamLabels } from '../../../core/metrics-labels.js';

describe('metric label values', () => {
  it.each([
    ['ok/business type', 'PolicyViolation', 'policy_violation'],
    ['ok/rollout type', 'DeliveryTimeout', 'delivery_timeout'],
    ['ok/no type', null, 'internal'],
    ['fail/unknown type becomes internal (bounded)', 'SignerFaultInjected', 'internal'],
    ['fail/attacker-ish text becomes internal', 'crt_abc def.example.test', 'internal'],
  ])('%s', (_name, type, expected) => {
    expect(failureReasonLabel(type)).toBe(expected);
  });

  it('snake-cases type names', () => {
    expect(snakeCase('NoActiveIssuer')).toBe('no_active_issuer');
    expect(snakeCase('tryLater')).toBe('try_later');
  });

  it('keeps the first maxTeams team names (sorted) and folds the rest into _other', () => {
    const labels = teamLabels(['zeta', 'alpha', 'mid', 'alpha'], 2);
    expect(Object.fromEntries(labels)).toEqual({ alpha: 'alpha', mid: 'mid', zeta: OTHER_TEAMS_LABEL });
    expect(new Set(teamLabels(Array.from({ length: 500 }, (_, i) => `team-${i}`), 100).values()).size).toBe(101);
    expect([...teamLabels(['a', 'b'], 0).values()]).toEqual([OTHER_TEAMS_LABEL, OTHER_TEAMS_LABEL]);
  });
});

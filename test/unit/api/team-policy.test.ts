import { describe, expect, it } from 'vitest';
import { mergedPolicy, policyInput, storedPolicy } from '../../../api/team-policy.js';
import { ProblemError } from '../../../api/problem.js';
import { checkedTeamPolicySchema, createTeamSchema } from '../../../api/schemas.js';
import type { TeamPolicy } from '../../../core/policy.js';

const stored: TeamPolicy = storedPolicy(
  checkedTeamPolicySchema.parse({
    allowedDomains: ['payments.internal'],
    allowIpSans: true,
    maxValidity: 'P30D',
    minValidity: 'PT2H',
    approval: { newNames: true, validityAbove: 'P7D', deadline: 'P1D' },
    quotas: { maxActiveCertificates: 10 },
  }),
);

describe('team policy input and stored shapes', () => {
  it('ok/a stored policy survives the round trip through the input shape', () => {
    expect(storedPolicy(checkedTeamPolicySchema.parse(policyInput(stored)))).toEqual(stored);
  });

  it('ok/a legacy stored policy (no new fields) survives the round trip unchanged', () => {
    const legacy: TeamPolicy = { allowedDomains: ['a.example'], allowWildcards: false, allowIpSans: true, maxValiditySeconds: 86_400, keyAlgorithms: ['ECDSA-P256'], profiles: ['tls-server'] };
    expect(storedPolicy(checkedTeamPolicySchema.parse(policyInput(legacy)))).toEqual(legacy);
  });

  const creations: { name: string; policy: Record<string, unknown>; want?: Partial<TeamPolicy>; error?: RegExp }[] = [
    { name: 'ok/ranges imply allowIpSans', policy: { allowedIpRanges: ['10.0.0.0/8'] }, want: { allowIpSans: true, allowedIpRanges: ['10.0.0.0/8'] } },
    { name: 'ok/no ranges: allowIpSans defaults to false', policy: {}, want: { allowIpSans: false } },
    { name: 'ok/CIDRs are stored canonical', policy: { allowedIpRanges: ['2001:0DB8::/32'] }, want: { allowedIpRanges: ['2001:db8::/32'] } },
    { name: 'fail/host bits set', policy: { allowedIpRanges: ['10.0.0.1/8'] }, error: /host bits set/ },
    { name: 'fail/allowIpSans false with ranges', policy: { allowIpSans: false, allowedIpRanges: ['10.0.0.0/8'] }, error: /allowIpSans is false/ },
    { name: 'fail/upper-case trust domain', policy: { allowedUris: { spiffe: [{ trustDomain: 'Prod', pathPrefixes: ['/'] }] } }, error: /SPIFFE trust domain/ },
    { name: 'fail/path prefix with a dot segment', policy: { allowedUris: { spiffe: [{ trustDomain: 'prod', pathPrefixes: ['/ns/../x'] }] } }, error: /SPIFFE path/ },
    { name: 'fail/path prefix with a trailing slash', policy: { allowedUris: { spiffe: [{ trustDomain: 'prod', pathPrefixes: ['/ns/'] }] } }, error: /SPIFFE path/ },
    { name: 'fail/no path prefix', policy: { allowedUris: { spiffe: [{ trustDomain: 'prod', pathPrefixes: [] }] } }, error: /at least one path prefix/ },
    { name: 'fail/minValidity above maxValidity', policy: { maxValidity: 'P1D', minValidity: 'P2D' }, error: /minValidity must not exceed maxValidity/ },
    { name: 'fail/negative quota', policy: { quotas: { maxActiveCertificates: -1 } }, error: /./ },
  ];
  it.each(creations)('$name', (tc) => {
    const result = createTeamSchema.safeParse({ name: 'team-a', policy: tc.policy });
    if (tc.error) {
      expect(result.success).toBe(false);
      expect(result.error?.issues.map((issue) => issue.message).join('; ')).toMatch(tc.error);
    } else {
      expect(result.success, JSON.stringify(result.error?.issues)).toBe(true);
      expect(storedPolicy(result.data!.policy)).toMatchObject(tc.want!);
    }
  });
});

describe('mergedPolicy (PATCH /v1/teams/:id)', () => {
  const cases: { name: string; patch: Record<string, unknown>; want?: Partial<TeamPolicy>; absent?: (keyof TeamPolicy)[]; error?: RegExp }[] = [
    { name: 'ok/a field replaces the stored one, the rest is kept', patch: { allowedDomains: ['billing.internal'] }, want: { allowedDomains: ['billing.internal'], minValiditySeconds: 7200, quotas: { maxActiveCertificates: 10 } } },
    { name: 'ok/null removes an optional field', patch: { quotas: null, minValidity: null }, absent: ['quotas', 'minValiditySeconds'] },
    { name: 'ok/null resets a field to its default', patch: { allowedDomains: null }, want: { allowedDomains: [] } },
    { name: 'ok/ranges without allowIpSans derive it again', patch: { allowedIpRanges: ['10.0.0.0/8'] }, want: { allowIpSans: true, allowedIpRanges: ['10.0.0.0/8'] } },
    { name: 'ok/approval rules keep their durations', patch: { allowWildcards: true }, want: { approval: stored.approval! } },
    { name: 'fail/an invalid merged policy names policy/<field>', patch: { allowedIpRanges: ['300.0.0.0/8'] }, error: /policy\/allowedIpRanges\/0/ },
    { name: 'fail/an unknown field', patch: { allowEverything: true }, error: /policy/ },
  ];
  it.each(cases)('$name', (tc) => {
    if (tc.error) {
      let thrown: unknown;
      try {
        mergedPolicy(stored, tc.patch);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ProblemError);
      expect((thrown as ProblemError).status).toBe(400);
      expect(JSON.stringify((thrown as ProblemError).toBody())).toMatch(tc.error);
      return;
    }
    const merged = mergedPolicy(stored, tc.patch);
    if (tc.want) expect(merged).toMatchObject(tc.want);
    for (const key of tc.absent ?? []) expect(merged).not.toHaveProperty(key);
  });
});

/**
 * Property-based tests of the policy chain (core/policy.ts `evaluatePolicy`) and DNS name
 * canonicalization (core/names.ts), against an independent, deliberately simple model.
 *
 * The model (`MODEL_RULES`) restates each rule of the chain in the most direct way (names compared
 * label by label, not by string suffix) in chain order; the properties check that the chain's
 * first violation is the model's first, for random policies and requests drawn from a small
 * alphabet of labels so that names and zones overlap often. A new rule of the chain (IP CIDRs,
 * URI policy, …) is one more entry in MODEL_RULES plus its generator fields.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalizeDnsName, canonicalizeDnsNames, NameError } from '../../core/names.js';
import { evaluatePolicy, policyViolations, type PolicyRequest, type PolicyViolationCode, type TeamPolicy } from '../../core/policy.js';
import { KEY_ALGORITHMS, PROFILES } from '../../core/types.js';
import { fuzzParameters } from '../support/fuzz.js';

// ---------------------------------------------------------------------------------------------
// The model: one entry per rule, in chain order.

const labelsOf = (name: string): string[] => name.split('.');

/** `name` is `zone` or lies under it, compared label by label; a wildcard stands for one label under its parent. */
function modelWithin(name: string, zone: string): boolean {
  const nameLabels = labelsOf(name);
  const bare = nameLabels[0] === '*' ? nameLabels.slice(1) : nameLabels;
  const zoneLabels = labelsOf(zone);
  if (bare.length < zoneLabels.length) return false;
  return zoneLabels.every((label, index) => bare[bare.length - zoneLabels.length + index] === label);
}

interface ModelRule {
  code: PolicyViolationCode;
  violated(request: PolicyRequest, policy: TeamPolicy): boolean;
}

export const MODEL_RULES: readonly ModelRule[] = [
  { code: 'profile_not_allowed', violated: (request, policy) => !policy.profiles.includes(request.profile) },
  { code: 'key_algorithm_not_allowed', violated: (request, policy) => !policy.keyAlgorithms.includes(request.keyAlgorithm) },
  { code: 'validity_too_long', violated: (request, policy) => request.validitySeconds > policy.maxValiditySeconds },
  { code: 'validity_too_short', violated: (request, policy) => policy.minValiditySeconds !== undefined && request.validitySeconds < policy.minValiditySeconds },
  { code: 'wildcard_not_allowed', violated: (request, policy) => !policy.allowWildcards && request.dnsNames.some((name) => labelsOf(name)[0] === '*') },
  { code: 'name_outside_allowed_domains', violated: (request, policy) => request.dnsNames.some((name) => !policy.allowedDomains.some((zone) => modelWithin(name, zone))) },
  { code: 'ip_sans_not_allowed', violated: (request, policy) => !policy.allowIpSans && request.ipAddresses.length > 0 },
  {
    code: 'ip_outside_allowed_ranges',
    violated: (request, policy) =>
      policy.allowIpSans && policy.allowedIpRanges !== undefined && request.ipAddresses.some((address) => !policy.allowedIpRanges!.some((range) => RANGE_MEMBERS[range]!.includes(address))),
  },
  { code: 'uri_sans_not_allowed', violated: (request) => request.profile === 'tls-server' && request.uris.length > 0 },
  { code: 'uri_outside_allowed_spiffe', violated: (request, policy) => request.uris.some((uri) => uri.startsWith('spiffe://') && !modelSpiffeAllowed(uri, policy)) },
  {
    code: 'uri_outside_allowed_https_hosts',
    violated: (request, policy) => request.uris.some((uri) => uri.startsWith('https://') && !(policy.allowedUris?.httpsHosts ?? []).some((zone) => modelWithin(new URL(uri).hostname, zone))),
  },
];

/**
 * Which of the generated addresses each generated range holds, written out by hand (the model does
 * no CIDR arithmetic). An IPv4-mapped IPv6 address is its IPv4 host: IPv4 ranges only.
 */
const RANGE_MEMBERS: Record<string, readonly string[]> = {
  '10.0.0.0/8': ['10.0.0.1', '::ffff:10.0.0.1'],
  '192.168.0.0/16': [],
  '0.0.0.0/0': ['10.0.0.1', '::ffff:10.0.0.1'],
  '2001:db8::/32': ['2001:db8::1'],
  '::/0': ['2001:db8::1'],
};

/** A SPIFFE ID is allowed when its trust domain is listed with a prefix equal to its path or a parent of it. */
function modelSpiffeAllowed(uri: string, policy: TeamPolicy): boolean {
  const [trustDomain, ...segments] = uri.slice('spiffe://'.length).split('/');
  return (policy.allowedUris?.spiffe ?? []).some(
    (entry) =>
      entry.trustDomain === trustDomain &&
      entry.pathPrefixes.some((prefix) => {
        const prefixSegments = prefix === '/' ? [] : prefix.slice(1).split('/');
        return prefixSegments.every((segment, index) => segments[index] === segment);
      }),
  );
}

const modelVerdict = (request: PolicyRequest, policy: TeamPolicy): PolicyViolationCode | null =>
  MODEL_RULES.find((rule) => rule.violated(request, policy))?.code ?? null;

// ---------------------------------------------------------------------------------------------
// Generators: a small label alphabet, so that names fall inside, beside and above the zones.

const LABELS = ['a', 'api', 'svc', 'payments', 'example', 'internal', 'com', 'net', 'test', 'xn--bcher-kva', 'badexample', 'ex-ample'];
const label = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...LABELS) }, { weight: 1, arbitrary: fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,6}[a-z0-9])?$/) });
const zone = fc.array(label, { minLength: 1, maxLength: 3 }).map((labels) => labels.join('.'));
/** Raw names as a client would send them: upper case, wildcards, trailing dots, empty labels sometimes. */
const rawName = fc
  .tuple(fc.boolean(), fc.array(label, { minLength: 1, maxLength: 4 }), fc.constantFrom('', '', '', '.', '..'), fc.boolean())
  .map(([wildcard, labels, tail, upper]) => {
    const name = `${wildcard ? '*.' : ''}${labels.join('.')}${tail}`;
    return upper ? name.toUpperCase() : name;
  });

const spiffeAllowance = fc.record({
  trustDomain: fc.constantFrom('example.com', 'prod', 'example'),
  pathPrefixes: fc.array(fc.constantFrom('/', '/ns', '/ns/a', '/ns/a/sa', '/ns/b', '/ns/a/sa/b', '/ns/a/s'), { minLength: 1, maxLength: 2 }),
});

const policy: fc.Arbitrary<TeamPolicy> = fc.record(
  {
    allowedDomains: fc.array(zone, { maxLength: 3 }),
    allowWildcards: fc.boolean(),
    allowIpSans: fc.boolean(),
    allowedIpRanges: fc.subarray(Object.keys(RANGE_MEMBERS)),
    allowedUris: fc.record({ spiffe: fc.array(spiffeAllowance, { maxLength: 2 }), httpsHosts: fc.array(zone, { maxLength: 2 }) }),
    maxValiditySeconds: fc.integer({ min: 1, max: 398 * 86_400 }),
    minValiditySeconds: fc.integer({ min: 1, max: 30 * 86_400 }),
    keyAlgorithms: fc.subarray([...KEY_ALGORITHMS], { minLength: 1 }),
    profiles: fc.subarray([...PROFILES], { minLength: 1 }),
  },
  { requiredKeys: ['allowedDomains', 'allowWildcards', 'allowIpSans', 'maxValiditySeconds', 'keyAlgorithms', 'profiles'] },
);

/** Canonicalized names, as the pipeline hands them to the chain (names that fail canonicalization are dropped). */
const canonicalNames = fc.array(rawName, { maxLength: 4 }).map((names) =>
  names.flatMap((name) => {
    try {
      return [canonicalizeDnsName(name)];
    } catch {
      return [];
    }
  }),
);

const request: fc.Arbitrary<PolicyRequest> = fc.record({
  dnsNames: canonicalNames.map((names) => [...new Set(names)]),
  ipAddresses: fc.constantFrom([], [], ['10.0.0.1'], ['2001:db8::1'], ['::ffff:10.0.0.1'], ['10.0.0.1', '2001:db8::1']),
  uris: fc.constantFrom([], [], ['spiffe://example.com/ns/a/sa/b'], ['spiffe://prod/ns/a'], ['https://api.example.com/x'], ['spiffe://example.com/ns/a/sa/b', 'https://svc.example/y']),
  profile: fc.constantFrom(...PROFILES),
  keyAlgorithm: fc.constantFrom(...KEY_ALGORITHMS),
  validitySeconds: fc.integer({ min: 1, max: 400 * 86_400 }),
});

/**
 * Requests the other rules let through by construction (profile, key algorithm, validity, no IP or
 * URI names) and a policy with a zone above the first name besides its random ones, so that the
 * properties about accepted requests see many of them: independent draws are accepted ~1 % of the
 * time, and then nearly always without a single name.
 */
const acceptedCase = fc.tuple(request, policy).map(([req, pol]) => {
  const first = req.dnsNames[0]?.replace(/^\*\./, '');
  const zoneAbove = first ? [first.split('.').slice(-2).join('.')] : [];
  const accepted: PolicyRequest = { ...req, ipAddresses: [], uris: [] };
  const allowing: TeamPolicy = {
    ...pol,
    profiles: [req.profile],
    keyAlgorithms: [req.keyAlgorithm],
    maxValiditySeconds: Math.max(pol.maxValiditySeconds, req.validitySeconds),
    minValiditySeconds: undefined,
    allowedDomains: [...pol.allowedDomains, ...zoneAbove],
  };
  return [accepted, allowing] as const;
});

describe('fuzz: the policy chain against a simple model', () => {
  it('ok/the first violation is the model\'s first violation (null when the model finds none)', () => {
    fc.assert(
      fc.property(request, policy, (req, pol) => {
        expect(evaluatePolicy(req, pol)?.code ?? null).toBe(modelVerdict(req, pol));
      }),
      fuzzParameters('evaluatePolicy = model', 3000),
    );
  });

  it('ok/every rule on its own: the chain reports exactly the rules the model finds violated', () => {
    fc.assert(
      fc.property(request, policy, (req, pol) => {
        const reported = new Set(policyViolations(req, pol).map((violation) => violation.code));
        expect([...reported].sort()).toEqual(MODEL_RULES.filter((rule) => rule.violated(req, pol)).map((rule) => rule.code).sort());
      }),
      fuzzParameters('policyViolations = model, rule by rule', 3000),
    );
  });

  it('ok/the accepted-case generator mostly yields accepted requests with names (the two properties below are not vacuous)', () => {
    const samples = fc.sample(acceptedCase, { numRuns: 2000, seed: 1 });
    const useful = samples.filter(([req, pol]) => req.dnsNames.length > 0 && evaluatePolicy(req, pol) === null).length;
    expect(useful).toBeGreaterThan(samples.length / 5);
  });

  it('ok/an accepted request: every DNS name lies within an allowed zone, no wildcard unless allowed, validity within the maximum', () => {
    fc.assert(
      fc.property(acceptedCase, ([req, pol]) => {
        fc.pre(req.dnsNames.length > 0 && evaluatePolicy(req, pol) === null);
        for (const name of req.dnsNames) expect(pol.allowedDomains.some((allowed) => modelWithin(name, allowed)), name).toBe(true);
        if (!pol.allowWildcards) expect(req.dnsNames.some((name) => name.startsWith('*.'))).toBe(false);
        expect(req.validitySeconds).toBeLessThanOrEqual(pol.maxValiditySeconds);
      }),
      fuzzParameters('accepted requests are within policy', 2000),
    );
  });

  it('ok/monotone: more zones or fewer names never turn an accepted request into a refused one', () => {
    fc.assert(
      fc.property(acceptedCase, zone, fc.nat(), ([req, pol], extraZone, drop) => {
        fc.pre(req.dnsNames.length > 0 && evaluatePolicy(req, pol) === null);
        expect(evaluatePolicy(req, { ...pol, allowedDomains: [...pol.allowedDomains, extraZone] })).toBeNull();
        const fewer = req.dnsNames.filter((_, index) => index !== drop % Math.max(1, req.dnsNames.length));
        expect(evaluatePolicy({ ...req, dnsNames: fewer }, pol)).toBeNull();
      }),
      fuzzParameters('policy monotonicity', 1000),
    );
  });
});

describe('fuzz: DNS name canonicalization', () => {
  it('ok/only NameError, and idempotent: a canonical name is its own canonical form', () => {
    const anyName = fc.oneof(rawName, fc.string({ maxLength: 80 }), fc.string({ maxLength: 40, unit: 'grapheme' }), fc.domain());
    fc.assert(
      fc.property(anyName, (name) => {
        let canonical: string;
        try {
          canonical = canonicalizeDnsName(name);
        } catch (error) {
          expect(error).toBeInstanceOf(NameError);
          return;
        }
        expect(canonicalizeDnsName(canonical)).toBe(canonical);
        expect(canonical).toBe(canonical.toLowerCase());
      }),
      fuzzParameters('canonicalizeDnsName: total and idempotent', 3000),
    );
  });

  it('ok/variants (upper case, trailing dot, Unicode instead of the A-label) are refused or decided as the canonical name is', () => {
    const IDN: [string, string][] = [
      ['bücher', 'xn--bcher-kva'],
      ['münchen', 'xn--mnchen-3ya'],
      ['пример', 'xn--e1afmkfd'],
    ];
    fc.assert(
      fc.property(rawName, policy, fc.constantFrom(...IDN), fc.boolean(), (name, pol, [unicode, aLabel], useIdn) => {
        let canonical: string;
        try {
          canonical = canonicalizeDnsName(useIdn ? `${aLabel}.${name}` : name);
        } catch {
          return;
        }
        const variants = [canonical.toUpperCase(), `${canonical}.`, useIdn ? canonical.replace(aLabel, unicode) : canonical.replace(/^([a-z])/, (c) => c.toUpperCase())];
        const decide = (names: string[]) => evaluatePolicy({ dnsNames: names, ipAddresses: [], uris: [], profile: 'tls-server', keyAlgorithm: 'ECDSA-P256', validitySeconds: 1 }, pol)?.code ?? null;
        for (const variant of variants) {
          let variantCanonical: string[];
          try {
            variantCanonical = canonicalizeDnsNames([variant]);
          } catch (error) {
            expect(error).toBeInstanceOf(NameError);
            continue;
          }
          expect(variantCanonical).toEqual([canonical]);
          expect(decide(variantCanonical)).toBe(decide([canonical]));
        }
        // A trailing dot and a Unicode label are always refused, never decided.
        expect(() => canonicalizeDnsName(`${canonical}.`)).toThrow(NameError);
        if (useIdn) expect(() => canonicalizeDnsName(canonical.replace(aLabel, unicode))).toThrow(NameError);
      }),
      fuzzParameters('name variants decided as the canonical name', 2000),
    );
  });
});

/**
 * zlint (every lint source, pinned version) on every sample certificate: the roots, the intermediates and one
 * leaf per profile × leaf key algorithm × hierarchy. No `warn`, `error` or `fatal` result is allowed except
 *
 * - EXEMPT: lints that only make sense for publicly-trusted (CA/Browser Forum) certificates, each with the
 *   reason it does not apply to a private CA — mirrored, one line each, in docs/zlint-exceptions.md;
 * - KNOWN_DEFECTS: real defects of today's builders, reported to their owners, listed here precisely (lint,
 *   which certificates, what is wrong, the fix) so the suite stays green while they are fixed. They are NOT
 *   exemptions: the test fails as soon as a listed defect stops firing (remove the entry) or a new one appears.
 *
 * No lint source is excluded (-excludeSources): lints of the EV, S/MIME, code-signing, ETSI, Apple, Mozilla and
 * Chrome sources only apply to certificates of their kind (EV policy OIDs, emailProtection / codeSigning EKUs,
 * QC statements…) and return NA on ours; running them means a zlint upgrade, or a builder change that makes one
 * apply, shows up here instead of being filtered away.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { KeyAlgorithm, Profile } from '../../core/types.js';
import { ZLINT_VERSION } from '../../scripts/test-tools.js';
import { buildLeafSamples, leafSampleSpecs, SAMPLE_HIERARCHIES, SAMPLE_LEAF_BUILDER, type LeafSamples } from '../support/leaf-samples.js';
import { runTool } from './run.js';

const zlint = inject('zlintPath');

/** Lints that only apply to publicly-trusted certificates: lint → why it does not apply to Certflow's private CA. */
export const EXEMPT: Record<string, string> = {
  e_ext_san_contains_reserved_ip:
    'BR 7.1.4.2.1 forbids reserved (RFC 1918 etc.) IPs because a public CA cannot validate control of them; a private CA issues for internal addresses on purpose (team policy allowIpSans decides).',
  e_ext_san_uniform_resource_identifier_present:
    'BR 7.1.4.2.1 limits TLS server SANs to dNSName/iPAddress; private mTLS identities carry URI SANs (SPIFFE IDs), which RFC 5280 §4.2.1.6 allows.',
  w_sub_cert_aia_contains_internal_names:
    "BR 7.1.2.10.3 wants AIA URLs on public DNS names so any browser can reach them; a private CA's OCSP/caIssuers endpoints (CERTFLOW_PUBLIC_URL) are on internal names or addresses its relying parties reach (zlint also counts an IP with a port, like the samples' 127.0.0.1:8080, as an internal name).",
  e_invalid_ca_certificate_policies:
    'BR 7.1.2.10.5 requires a CA/Browser Forum reserved policy OID (e.g. 2.23.140.1.2.1) in every subordinate CA; those OIDs assert WebPKI validation methods a private CA does not perform. The intermediate carries the Certflow policy OID, as RFC 5280 policy processing needs.',
  w_ext_subject_key_identifier_not_recommended_subscriber:
    'BR 7.1.2.7.6 advises against a subjectKeyIdentifier in subscriber certificates of the WebPKI; RFC 5280 §4.2.1.2, which governs a private CA, says end-entity certificates SHOULD carry it, and Certflow follows RFC 5280.',
  w_subject_common_name_included:
    'BR 7.1.2.7.1 deprecates the CN because browsers match the SAN only; Certflow writes the CN only when the request asks for it, for private relying parties that still read it (e.g. PostgreSQL clientcert=verify-full, Kafka/MQ principals from the subject DN).',
};

interface LintedCertificate {
  id: string;
  kind: 'root' | 'intermediate' | 'leaf';
  profile?: Profile;
  keyAlgorithm: KeyAlgorithm;
}

interface KnownDefect {
  lint: string;
  /** Which sample certificates it fires on. */
  on: (cert: LintedCertificate) => boolean;
  /** zlint's details text, when it tells apart the defect from a BR-only reason to fire. */
  details?: RegExp;
  defect: string;
}

const usingReferenceBuilder = SAMPLE_LEAF_BUILDER.kind === 'reference';
/** CA/B Forum BR lints apply only to serverAuth leaves (zlint skips them for clientAuth-only certificates). */
const isServerAuthLeaf = (c: LintedCertificate) => c.kind === 'leaf' && (c.profile === 'tls-server' || c.profile === 'mtls');
const referenceServerLeaf = (c: LintedCertificate) => usingReferenceBuilder && isServerAuthLeaf(c);

/** Real defects found by zlint, to be fixed in the builders (see the file comment). */
export const KNOWN_DEFECTS: KnownDefect[] = [
  // test/support/reference-leaf.ts buildLeafCertificate (the reference builder; only fires when the samples use it)
  {
    lint: 'e_missing_crl_distrib_point',
    on: referenceServerLeaf,
    defect: 'test/support/reference-leaf.ts: leaves have no cRLDistributionPoints (ca/profiles.ts: issuerUrls(…).crl); revocation by CRL is undiscoverable. Also true for tls-client leaves, where zlint does not run BR lints.',
  },
  {
    lint: 'e_sub_cert_aia_missing',
    on: referenceServerLeaf,
    defect: 'test/support/reference-leaf.ts: leaves have no authorityInfoAccess (caIssuers + OCSP from issuerUrls), so OCSP is undiscoverable and clients cannot fetch a missing intermediate. Also true for tls-client leaves.',
  },
  {
    lint: 'w_sub_cert_aia_does_not_contain_issuing_ca_url',
    on: referenceServerLeaf,
    defect: 'test/support/reference-leaf.ts: same cause as e_sub_cert_aia_missing (no caIssuers URL).',
  },
  {
    lint: 'e_sub_cert_certificate_policies_missing',
    on: referenceServerLeaf,
    defect: 'test/support/reference-leaf.ts: leaves have no certificatePolicies; ca/profiles.ts requires CERTFLOW_POLICY_OID. Also true for tls-client leaves.',
  },
  {
    lint: 'e_sub_cert_cert_policy_empty',
    on: referenceServerLeaf,
    defect: 'test/support/reference-leaf.ts: same cause as e_sub_cert_certificate_policies_missing (zlint only checks that some policy is present).',
  },
];

interface ZlintResult {
  result: 'pass' | 'NA' | 'NE' | 'info' | 'notice' | 'warn' | 'error' | 'fatal';
  details?: string;
}
type Finding = { lint: string; result: string; details?: string };

const FAILING = new Set(['warn', 'error', 'fatal']);

let samples: LeafSamples;

beforeAll(async () => {
  const version = await runTool(zlint, ['-version']);
  expect(version.stdout.trim()).toBe(`ZLint version ${ZLINT_VERSION}`);
  samples = await buildLeafSamples();
}, 300_000);
afterAll(() => samples?.remove());

async function lint(file: string): Promise<Finding[]> {
  const run = await runTool(zlint, ['-format', 'pem', file]);
  expect(run.code, run.stderr).toBe(0);
  return findingsOf(run.stdout);
}

function findingsOf(stdout: string): Finding[] {
  const results = JSON.parse(stdout) as Record<string, ZlintResult>;
  expect(Object.keys(results).length).toBeGreaterThan(300); // all sources ran
  return Object.entries(results)
    .filter(([, r]) => FAILING.has(r.result))
    .map(([name, r]) => ({ lint: name, result: r.result, ...(r.details ? { details: r.details } : {}) }))
    .sort((a, b) => a.lint.localeCompare(b.lint));
}

async function expectOnlyExemptOrKnown(cert: LintedCertificate, file: string): Promise<void> {
  const findings = await lint(file);
  const unexplained = findings.filter((f) => f.result === 'fatal' || !(f.lint in EXEMPT));
  const expectedDefects = KNOWN_DEFECTS.filter((d) => d.on(cert)).map((d) => d.lint).sort();
  const matchedDefects = unexplained.filter((f) => {
    const known = KNOWN_DEFECTS.find((d) => d.lint === f.lint && d.on(cert));
    return known && f.result !== 'fatal' && (!known.details || known.details.test(f.details ?? ''));
  });
  // New findings (not exempt, not a listed defect): a regression, or a lint to review.
  expect(
    unexplained.filter((f) => !matchedDefects.includes(f)),
    `${cert.id}: zlint findings that are neither exempt (EXEMPT) nor a listed defect (KNOWN_DEFECTS)`,
  ).toEqual([]);
  // Listed defects that no longer fire: fixed — remove them from KNOWN_DEFECTS.
  expect(matchedDefects.map((f) => f.lint), `${cert.id}: KNOWN_DEFECTS entries must still fire (remove fixed ones)`).toEqual(expectedDefects);
}

describe(`zlint ${ZLINT_VERSION} (all sources), leaves built by ${SAMPLE_LEAF_BUILDER.name}`, () => {
  const cas = SAMPLE_HIERARCHIES.flatMap((h) => [
    { id: `${h.name}/root`, kind: 'root' as const, keyAlgorithm: h.root },
    { id: `${h.name}/intermediate`, kind: 'intermediate' as const, keyAlgorithm: h.intermediate },
  ]);
  it.each(cas)('$id', async (ca) => {
    await expectOnlyExemptOrKnown(ca, samples.cas.find((c) => c.id === ca.id)!.pemPath);
  });

  it.each(leafSampleSpecs())('$id', async (spec) => {
    await expectOnlyExemptOrKnown({ id: spec.id, kind: 'leaf', profile: spec.profile, keyAlgorithm: spec.keyAlgorithm }, samples.leaf(spec.id).leafPath);
  });

  // The exemptions are reviewed against the production builder; the reference one writes no AIA.
  it.runIf(SAMPLE_LEAF_BUILDER.kind === 'template')('every exemption is still needed (it fires on some sample)', async () => {
    const fired = new Set<string>();
    for (const file of [...samples.cas.map((c) => c.pemPath), ...samples.leaves.map((l) => l.leafPath)]) {
      for (const finding of await lint(file)) fired.add(finding.lint);
    }
    expect(Object.keys(EXEMPT).filter((name) => !fired.has(name))).toEqual([]);
  });

  it('docs/zlint-exceptions.md lists exactly the exempt lints', async () => {
    const doc = await fs.readFile(path.join(path.dirname(fileURLToPath(import.meta.url)), '../../docs/zlint-exceptions.md'), 'utf8');
    const section = /^## Exempt lints\n([\s\S]*?)(?=^## )/m.exec(doc)?.[1] ?? '';
    const documented = [...section.matchAll(/^\| `([a-z]_[a-z0-9_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(EXEMPT).sort());
  });
});

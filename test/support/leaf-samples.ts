/**
 * Sample certificates for the external checkers (certtool, zlint): CA hierarchies built with ca/authority.ts
 * and one leaf per profile × leaf key algorithm the profile accepts (PROFILE_KEY_ALGORITHMS), written as PEM
 * files into a temp dir.
 *
 * What builds the leaves is chosen in ONE place: `SAMPLE_LEAF_BUILDER` below.
 */
import { KeyObject, webcrypto } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TeamPolicy } from '../../core/policy.js';
import { KEY_ALGORITHMS, PROFILES, type KeyAlgorithm, type Profile } from '../../core/types.js';
import { DEFAULT_CA_COUNTRY } from '../../activities/ca-bootstrap.js';
import { createIntermediateCa, createRootCa, type CaKeyAndCertificate } from '../../ca/authority.js';
import { generateKeyPair } from '../../ca/keys.js';
import { issueFromRequest } from '../../ca/issuance.js';
import { buildLeafCertificate, type LeafRequest } from './reference-leaf.js';
import { LeafTemplates } from '../../ca/leaf-template.js';
import { issuerUrls, PROFILE_KEY_ALGORITHMS, type IssuerUrls } from '../../ca/profiles.js';
import { randomSerial } from '../../ca/serial.js';
import { softwareSigner } from '../../ca/signer.js';

/** Base of the CRL/OCSP/AIA URLs in the samples (what `CERTFLOW_PUBLIC_URL` is in dev). */
export const SAMPLE_PUBLIC_URL = 'http://127.0.0.1:8080';
export const SAMPLE_VALIDITY_SECONDS = 90 * 86_400;

// ---------------------------------------------------------------------------------------------------------
// The builder choice — the one place to switch.

/** Everything a leaf builder gets: the issuing CA (certificate + key) and the canonical request. */
export interface SampleLeafInput extends LeafRequest {
  issuer: CaKeyAndCertificate;
  /** Id the issuer has in the `issuer` table; its public URLs are `issuerUrls` below. */
  issuerId: string;
  issuerUrls: IssuerUrls;
}

export type SampleLeafBuilder = (input: SampleLeafInput) => Promise<string /* PEM */>;

/**
 * The production path: ca/issuance.ts `issueFromRequest` (key checks, team policy, lint) signing with
 * ca/leaf-template.ts `LeafTemplates` (one per issuer, as production keeps them), under a team policy that
 * allows every sample.
 */
const SAMPLE_TEAM_POLICY: TeamPolicy = {
  allowedDomains: ['certflow.example.com'],
  allowWildcards: true,
  allowIpSans: true,
  maxValiditySeconds: 398 * 86_400,
  keyAlgorithms: [...KEY_ALGORITHMS],
  profiles: [...PROFILES],
  allowedUris: { spiffe: [{ trustDomain: 'certflow.example.com', pathPrefixes: ['/'] }], httpsHosts: ['certflow.example.com'] },
};
const templatesByIssuer = new WeakMap<CaKeyAndCertificate, LeafTemplates>();
const templateBuilder: SampleLeafBuilder = async (input) => {
  let templates = templatesByIssuer.get(input.issuer);
  if (!templates) {
    templates = new LeafTemplates({
      id: input.issuerId,
      certificateDer: new Uint8Array(input.issuer.certificate.rawData),
      signer: softwareSigner(KeyObject.from(input.issuer.keys.privateKey), input.issuer.keyAlgorithm),
      urls: input.issuerUrls,
    });
    templatesByIssuer.set(input.issuer, templates);
  }
  const issued = await issueFromRequest(
    { templates, now: () => input.issuedAt, serial: () => input.serial },
    {
      key: { publicKeySpki: new Uint8Array(await webcrypto.subtle.exportKey('spki', input.subjectPublicKey)) },
      commonName: input.commonName,
      dnsNames: input.dnsNames,
      ipAddresses: input.ipAddresses,
      uris: input.uris,
      profile: input.profile,
      validitySeconds: input.validitySeconds,
      teamPolicy: SAMPLE_TEAM_POLICY,
    },
  );
  return issued.pem;
};

/**
 * The reference builder (test/support/reference-leaf.ts, @peculiar/x509). It does NOT write the CRL distribution point, the AIA
 * (caIssuers + OCSP) or the Certflow policy OID (`issuerUrls` is ignored), and it writes a subjectKeyIdentifier
 * that ca/profiles.ts says leaves should not carry.
 */
const referenceBuilder: SampleLeafBuilder = async (input) => {
  const leaf = await buildLeafCertificate(
    { certificate: input.issuer.certificate, signingKey: input.issuer.keys.privateKey, keyAlgorithm: input.issuer.keyAlgorithm },
    {
      serial: input.serial,
      commonName: input.commonName,
      dnsNames: input.dnsNames,
      ipAddresses: input.ipAddresses,
      uris: input.uris,
      profile: input.profile,
      subjectPublicKey: input.subjectPublicKey,
      subjectKeyAlgorithm: input.subjectKeyAlgorithm,
      issuedAt: input.issuedAt,
      validitySeconds: input.validitySeconds,
    },
  );
  return leaf.toString('pem');
};

/**
 * THE switch: what the external checkers test. `template` is what production signs (ca/issuance.ts +
 * ca/leaf-template.ts); `reference` is test/support/reference-leaf.ts. test/external/zlint.test.ts keys its KNOWN_DEFECTS on `kind`.
 */
export const SAMPLE_LEAF_BUILDERS = {
  template: { kind: 'template', name: 'ca/issuance.ts issueFromRequest + ca/leaf-template.ts LeafTemplates', build: templateBuilder },
  reference: { kind: 'reference', name: 'test/support/reference-leaf.ts buildLeafCertificate', build: referenceBuilder },
} as const satisfies Record<string, { kind: string; name: string; build: SampleLeafBuilder }>;

export const SAMPLE_LEAF_BUILDER: { kind: keyof typeof SAMPLE_LEAF_BUILDERS; name: string; build: SampleLeafBuilder } = SAMPLE_LEAF_BUILDERS.template;

// ---------------------------------------------------------------------------------------------------------

/** CA hierarchies the leaves are issued under. `ec` is what activities/ca-bootstrap.ts creates. */
export const SAMPLE_HIERARCHIES = [
  { name: 'ec', root: 'ECDSA-P384', intermediate: 'ECDSA-P256' },
  { name: 'rsa', root: 'RSA-4096', intermediate: 'RSA-3072' },
] as const satisfies readonly { name: string; root: KeyAlgorithm; intermediate: KeyAlgorithm }[];

export type HierarchyName = (typeof SAMPLE_HIERARCHIES)[number]['name'];

export interface CaSample {
  /** e.g. `ec/root`, `ec/intermediate` */
  id: string;
  hierarchy: HierarchyName;
  kind: 'root' | 'intermediate';
  keyAlgorithm: KeyAlgorithm;
  /** PEM file of the certificate. */
  pemPath: string;
}

/** What a sample leaf is, known before anything is built (so tests can be named by it). */
export interface LeafSampleSpec {
  /** e.g. `ec/tls-server/ECDSA-P256`, `ec/tls-server/ECDSA-P256/no-subject` */
  id: string;
  hierarchy: HierarchyName;
  profile: Profile;
  keyAlgorithm: KeyAlgorithm;
  commonName: string | null;
  dnsNames: string[];
  ipAddresses: string[];
  uris: string[];
}

export interface LeafSample extends LeafSampleSpec {
  /** PEM file of the leaf alone. */
  leafPath: string;
  /** PEM file of leaf + intermediate (what a server sends). */
  chainPath: string;
  /** PEM file of the hierarchy's root (the trust anchor). */
  rootPath: string;
}

export interface LeafSamples {
  dir: string;
  builder: string;
  cas: CaSample[];
  leaves: LeafSample[];
  leaf(id: string): LeafSample;
  /** A root with the same subject as `ec/root` but another key: no chain may verify against it. */
  impostorRootPath: string;
  remove(): Promise<void>;
}

export const SAMPLE_HOSTNAME = 'svc.certflow.example.com';

/** Names per profile: servers get an IP SAN too, clients a SPIFFE-style URI (both are what teams request). */
function namesFor(profile: Profile): Pick<LeafSample, 'dnsNames' | 'ipAddresses' | 'uris'> {
  const spiffe = 'spiffe://certflow.example.com/ns/payments/sa/svc';
  switch (profile) {
    case 'tls-server':
      return { dnsNames: [SAMPLE_HOSTNAME, `*.${SAMPLE_HOSTNAME}`], ipAddresses: ['10.0.0.1'], uris: [] };
    case 'tls-client':
      return { dnsNames: [SAMPLE_HOSTNAME], ipAddresses: [], uris: [spiffe] };
    case 'mtls':
      return { dnsNames: [SAMPLE_HOSTNAME], ipAddresses: ['10.0.0.1'], uris: [spiffe] };
  }
}

/**
 * Every profile × leaf key algorithm it accepts (PROFILE_KEY_ALGORITHMS) × hierarchy, plus one leaf with an
 * empty subject (names only in the then-critical SAN) per profile and hierarchy.
 */
export function leafSampleSpecs(hierarchies: readonly HierarchyName[] = SAMPLE_HIERARCHIES.map((h) => h.name)): LeafSampleSpec[] {
  return hierarchies.flatMap((hierarchy) =>
    PROFILES.flatMap((profile) =>
      PROFILE_KEY_ALGORITHMS[profile].flatMap((keyAlgorithm) => {
        const spec = { hierarchy, profile, keyAlgorithm, ...namesFor(profile) };
        const specs: LeafSampleSpec[] = [{ ...spec, id: `${hierarchy}/${profile}/${keyAlgorithm}`, commonName: SAMPLE_HOSTNAME }];
        if (keyAlgorithm === 'ECDSA-P256') specs.push({ ...spec, id: `${hierarchy}/${profile}/${keyAlgorithm}/no-subject`, commonName: null });
        return specs;
      }),
    ),
  );
}

export interface BuildLeafSamplesOptions {
  /** Issuance time; default now (the checkers verify at the current time). */
  now?: Date;
  /** Which hierarchies; default all of SAMPLE_HIERARCHIES. */
  hierarchies?: readonly HierarchyName[];
}

export async function buildLeafSamples(options: BuildLeafSamplesOptions = {}): Promise<LeafSamples> {
  const now = options.now ?? new Date();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'certflow-samples-'));
  const write = async (name: string, content: string): Promise<string> => {
    const file = path.join(dir, name);
    await fs.writeFile(file, content);
    return file;
  };
  const cas: CaSample[] = [];
  const leaves: LeafSample[] = [];
  // One key per leaf algorithm, shared by the profiles: the profiles differ in what the CA writes, not in the key.
  const leafKeys = new Map<KeyAlgorithm, CryptoKeyPair>();
  const leafKey = async (algorithm: KeyAlgorithm): Promise<CryptoKeyPair> => {
    let keys = leafKeys.get(algorithm);
    if (!keys) leafKeys.set(algorithm, (keys = await generateKeyPair(algorithm)));
    return keys;
  };

  try {
    let impostorRootPath = '';
    for (const spec of SAMPLE_HIERARCHIES.filter((h) => !options.hierarchies || options.hierarchies.includes(h.name))) {
      // countryName as ca-bootstrap.ts writes it by default (CERTFLOW_CA_COUNTRY).
      const caOptions = { organization: 'Certflow Samples', country: DEFAULT_CA_COUNTRY, now: new Date(now.getTime() - 3_600_000), serial: randomSerial };
      const root = await createRootCa({ ...caOptions, commonName: `Certflow Samples Root CA (${spec.name})`, keyAlgorithm: spec.root, validityDays: 3650 });
      const intermediate = await createIntermediateCa(
        { certificate: root.certificate, signingKey: root.keys.privateKey, keyAlgorithm: root.keyAlgorithm, urls: issuerUrls(SAMPLE_PUBLIC_URL, `iss_samples_${spec.name}_root`) },
        { ...caOptions, commonName: `Certflow Samples Issuing CA (${spec.name}) 1`, keyAlgorithm: spec.intermediate, validityDays: 1825 },
      );
      const rootPath = await write(`${spec.name}-root.pem`, root.certificate.toString('pem'));
      const intermediatePem = intermediate.certificate.toString('pem');
      const intermediatePath = await write(`${spec.name}-intermediate.pem`, intermediatePem);
      cas.push(
        { id: `${spec.name}/root`, hierarchy: spec.name, kind: 'root', keyAlgorithm: spec.root, pemPath: rootPath },
        { id: `${spec.name}/intermediate`, hierarchy: spec.name, kind: 'intermediate', keyAlgorithm: spec.intermediate, pemPath: intermediatePath },
      );
      if (!impostorRootPath) {
        // Same subject as the real root, other key: a verifier that looks issuers up by name finds it and must refuse.
        const impostor = await createRootCa({ ...caOptions, commonName: `Certflow Samples Root CA (${spec.name})`, keyAlgorithm: spec.root, validityDays: 3650 });
        impostorRootPath = await write('impostor-root.pem', impostor.certificate.toString('pem'));
      }

      const issuerId = `iss_samples_${spec.name}`;
      for (const leafSpec of leafSampleSpecs([spec.name])) {
        const pem = await SAMPLE_LEAF_BUILDER.build({
          issuer: intermediate,
          issuerId,
          issuerUrls: issuerUrls(SAMPLE_PUBLIC_URL, issuerId),
          serial: randomSerial(),
          commonName: leafSpec.commonName,
          dnsNames: leafSpec.dnsNames,
          ipAddresses: leafSpec.ipAddresses,
          uris: leafSpec.uris,
          profile: leafSpec.profile,
          subjectPublicKey: (await leafKey(leafSpec.keyAlgorithm)).publicKey,
          subjectKeyAlgorithm: leafSpec.keyAlgorithm,
          issuedAt: now,
          validitySeconds: SAMPLE_VALIDITY_SECONDS,
        });
        const base = leafSpec.id.replaceAll('/', '_');
        leaves.push({
          ...leafSpec,
          leafPath: await write(`${base}.pem`, pem),
          chainPath: await write(`${base}-chain.pem`, pem + intermediatePem),
          rootPath,
        });
      }
    }
    const leaf = (id: string): LeafSample => {
      const found = leaves.find((l) => l.id === id);
      if (!found) throw new Error(`no sample leaf ${id}`);
      return found;
    };
    return { dir, builder: SAMPLE_LEAF_BUILDER.name, cas, leaves, leaf, impostorRootPath, remove: () => fs.rm(dir, { recursive: true, force: true }) };
  } catch (error) {
    await fs.rm(dir, { recursive: true, force: true });
    throw error;
  }
}

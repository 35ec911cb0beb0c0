/**
 * The ACME listener's own TLS certificate: issued by Certflow's CA for CERTFLOW_ACME_HOSTNAMES and
 * renewed by its lifecycle like any other certificate. It belongs to the platform's own team
 * (`certflow-platform`, whose policy allows exactly those names); the key stays in this process's
 * data directory (mode 0600), so the certificate is requested with a CSR.
 */
import { webcrypto } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { x509 } from '../../ca/x509.js';
import { classifyHost } from '../../core/destination-hosts.js';
import { canonicalizeDnsName, NameError } from '../../core/names.js';
import type { TeamPolicy } from '../../core/policy.js';
import { findCertificate } from '../../db/certificates.js';
import { BOOTSTRAP_PRINCIPAL_ID } from '../../db/principals.js';
import { findTeamByName, insertTeam, updateTeamPolicy, type TeamRow } from '../../db/teams.js';
import { findVersion, issuerOf } from '../../db/versions.js';
import { issuerChainPem } from '../../db/issuers.js';
import { createCertificate } from '../certificate-creation.js';
import { PLATFORM_TEAM_NAME } from './platform-team.js';
import type { ApiDeps } from '../deps.js';

const VALIDITY_SECONDS = 30 * 86_400;

export interface ServerTls {
  key: string;
  /** The leaf and its chain, PEM. */
  cert: string;
  versionId: string;
}

interface Names {
  dnsNames: string[];
  ipAddresses: string[];
}

/**
 * Makes sure a certificate for `hostnames` exists (requesting it once) and returns a function that
 * reads its current version: null until the worker has signed it.
 */
export async function acmeServerCertificate(
  deps: ApiDeps,
  options: { hostnames: string[]; directory: string; log: (message: string) => void },
): Promise<() => Promise<ServerTls | null>> {
  const names = splitNames(options.hostnames, options.log);
  const team = await platformTeam(deps, names);
  await mkdir(options.directory, { recursive: true, mode: 0o700 });
  const keyPem = await serverKey(join(options.directory, 'key.pem'));
  const idFile = join(options.directory, 'certificate-id');
  let certificateId = (await readFile(idFile, 'utf8').catch(() => '')).trim();
  const existing = certificateId ? await findCertificate(deps.db, certificateId) : null;
  const reusable =
    existing && existing.state !== 'revoked' && existing.state !== 'failed' && sameNames(existing, names) && existing.teamId === team.id;
  if (!reusable) {
    const csr = await csrPem(keyPem, names);
    const answer = await createCertificate(deps, {
      principal: { tokenId: 'acme-listener', principalId: BOOTSTRAP_PRINCIPAL_ID, accountableId: BOOTSTRAP_PRINCIPAL_ID, teamId: null, role: 'admin' },
      team,
      body: { team: team.id, ...names, uris: [], profile: 'tls-server', validity: VALIDITY_SECONDS, csr, destinations: [] },
    });
    certificateId = answer.certificateId;
    await writeFile(idFile, `${certificateId}\n`, { mode: 0o600 });
  }
  return async () => {
    const certificate = await findCertificate(deps.db, certificateId);
    const version = certificate?.currentVersionId ? await findVersion(deps.db, certificate.currentVersionId) : null;
    if (!version) return null;
    return { key: keyPem, cert: `${version.certificatePem.trim()}\n${await issuerChainPem(deps.db, issuerOf(version))}`, versionId: version.id };
  };
}

/**
 * The names the CA can certify. It refuses single-label names such as `localhost` (core/names.ts),
 * so those are left out: clients on the same host connect to 127.0.0.1 instead.
 */
function splitNames(hostnames: string[], log: (message: string) => void): Names {
  const names: Names = { dnsNames: [], ipAddresses: [] };
  for (const hostname of hostnames) {
    const host = classifyHost(hostname);
    if (host?.kind === 'ip') {
      names.ipAddresses.push(host.address);
      continue;
    }
    try {
      names.dnsNames.push(canonicalizeDnsName(hostname));
    } catch (error) {
      if (!(error instanceof NameError)) throw error;
      log(`ACME listener: its certificate leaves out "${hostname}" (${error.message})`);
    }
  }
  if (names.dnsNames.length + names.ipAddresses.length === 0) throw new Error('CERTFLOW_ACME_HOSTNAMES names nothing the CA can certify');
  return names;
}

function sameNames(certificate: { dnsNames: string[]; ipAddresses: string[] }, names: Names): boolean {
  const key = (values: string[]) => [...values].sort().join(',');
  return key(certificate.dnsNames) === key(names.dnsNames) && key(certificate.ipAddresses) === key(names.ipAddresses);
}

/** The platform's own team, whose policy allows the listener's names and nothing else. */
async function platformTeam(deps: ApiDeps, names: Names): Promise<TeamRow> {
  const policy: TeamPolicy = {
    allowedDomains: names.dnsNames,
    allowWildcards: false,
    allowIpSans: names.ipAddresses.length > 0,
    allowedIpRanges: names.ipAddresses.map((address) => (address.includes(':') ? `${address}/128` : `${address}/32`)),
    allowedUris: { spiffe: [], httpsHosts: [] },
    maxValiditySeconds: VALIDITY_SECONDS,
    keyAlgorithms: ['ECDSA-P256'],
    profiles: ['tls-server'],
  };
  const created = await insertTeam(deps.db, PLATFORM_TEAM_NAME, policy);
  if (created) return created;
  const existing = (await findTeamByName(deps.db, PLATFORM_TEAM_NAME))!;
  if (JSON.stringify(existing.policy) === JSON.stringify(policy)) return existing;
  return (await updateTeamPolicy(deps.db, existing.id, () => policy))!.team;
}

async function serverKey(path: string): Promise<string> {
  const existing = await readFile(path, 'utf8').catch(() => null);
  if (existing) return existing;
  const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const pem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END PRIVATE KEY-----\n`;
  await writeFile(path, pem, { mode: 0o600, flag: 'wx' }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
  return readFile(path, 'utf8');
}

async function csrPem(keyPem: string, names: Names): Promise<string> {
  const der = Buffer.from(keyPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const privateKey = await webcrypto.subtle.importKey('pkcs8', der, algorithm, true, ['sign']);
  const jwk = await webcrypto.subtle.exportKey('jwk', privateKey);
  const publicKey = await webcrypto.subtle.importKey('jwk', { kty: jwk.kty!, crv: jwk.crv!, x: jwk.x!, y: jwk.y! }, algorithm, true, ['verify']);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    keys: { privateKey, publicKey },
    signingAlgorithm: algorithm,
    extensions: [
      new x509.SubjectAlternativeNameExtension([
        ...names.dnsNames.map((value) => new x509.GeneralName('dns', value)),
        ...names.ipAddresses.map((value) => new x509.GeneralName('ip', value)),
      ]),
    ],
  });
  return csr.toString('pem');
}

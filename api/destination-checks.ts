/**
 * What `POST /v1/certificates` checks about its destinations before anything is stored: every
 * host a webhook or verify endpoint names against the platform's deny list and the team's
 * `destinationHosts` (core/destination-hosts.ts), and which exclusive places (file directories,
 * agent targets) the certificate is about to claim (core/destination-claims.ts). The claim itself
 * is made in the certificate's transaction (db/destination-claims.ts).
 */
import { claimLockScope, collidingPair, destinationClaimKey } from '../core/destination-claims.js';
import { checkDestinationHost, type DestinationHostPolicy, type DestinationRefusalCode, type PlatformDestinationRules } from '../core/destination-hosts.js';
import type { ClaimConflict, DestinationClaim } from '../db/destination-claims.js';
import { ProblemError, problems, type FieldProblem } from './problem.js';
import type { DestinationBody } from './schemas.js';

export interface DestinationHostProblem extends FieldProblem {
  code: DestinationRefusalCode;
}

/** Every host:port the destinations would connect to, with the field that names it. */
function targetsOf(destinations: DestinationBody[]): Array<{ field: string; host: string; port: number }> {
  return destinations.flatMap((destination, index) => {
    const targets: Array<{ field: string; host: string; port: number }> = [];
    if (destination.type === 'webhook') {
      const url = new URL(destination.url);
      targets.push({ field: `destinations/${index}/url`, host: url.hostname, port: url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80 });
    }
    destination.verify?.endpoints.forEach((endpoint, position) =>
      targets.push({ field: `destinations/${index}/verify/endpoints/${position}`, host: endpoint.host, port: endpoint.port }),
    );
    return targets;
  });
}

/** Refuses the request (403, one `errors[]` entry per refused host) when any destination host is not allowed. */
export function checkDestinationHosts(destinations: DestinationBody[], policy: DestinationHostPolicy | undefined, platform: PlatformDestinationRules): void {
  const refused: DestinationHostProblem[] = [];
  for (const target of targetsOf(destinations)) {
    const refusal = checkDestinationHost(target.host, target.port, policy, platform);
    if (refusal) refused.push({ field: target.field, code: refusal.code, message: refusal.message });
  }
  if (refused.length === 0) return;
  throw new ProblemError(
    403,
    'destination-host-refused',
    'A destination host is not allowed',
    `${refused.length === 1 ? 'a destination names a host' : `${refused.length} destinations name hosts`} that this team may not reach: ${refused.map((problem) => problem.message).join('; ')}`,
    { errors: refused },
  );
}

/** The claims the destinations make; two destinations of the request that collide are refused (400). */
export function destinationClaims(destinations: DestinationBody[], fileRoot: string): DestinationClaim[] {
  const keys = destinations.map((destination) => destinationClaimKey(destination, fileRoot));
  const pair = collidingPair(keys);
  if (pair) {
    const [first, second] = pair;
    throw problems.validation(`destinations ${first} and ${second} write to the same place (the same directory, agent target or Secret, or one directory inside the other)`, [
      { field: `destinations/${second}`, message: `collides with destinations/${first}` },
    ]);
  }
  return keys.flatMap((key, index) => (key === null ? [] : [{ index, key, lockScope: claimLockScope(key, fileRoot) }]));
}

/** 409: the place belongs to another certificate; the owner's team is named (a certificate id only within the team). */
export function destinationClaimed(conflict: ClaimConflict, destination: DestinationBody, requestingTeamId: string): ProblemError {
  const place =
    destination.type === 'file'
      ? `directory "${destination.directory}" (or a directory it lies in or contains)`
      : destination.type === 'agent'
        ? `agent target "${destination.target}"`
        : destination.type === 'kubernetes'
          ? `Secret "${destination.namespace}/${destination.secretName}" of cluster "${destination.cluster}"`
          : 'destination';
  const sameTeam = conflict.ownerTeamId === requestingTeamId;
  const owner = sameTeam ? `certificate ${conflict.ownerCertificateId} of this team` : `a certificate of team "${conflict.ownerTeamName}"`;
  const message = `${place} belongs to ${owner}`;
  const other = destination.type === 'agent' ? 'target' : destination.type === 'kubernetes' ? 'secretName' : 'directory';
  return new ProblemError(409, 'destination-claimed', 'The destination belongs to another certificate', `${message}; choose another ${other}`, {
    ownerTeam: conflict.ownerTeamName,
    ...(sameTeam ? { ownerCertificateId: conflict.ownerCertificateId } : {}),
    errors: [{ field: `destinations/${conflict.index}`, message }],
  });
}

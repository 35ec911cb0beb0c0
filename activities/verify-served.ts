/**
 * Proof of rollout: after a version is delivered to a destination, its TLS endpoints must serve
 * exactly that certificate (same SHA-256 fingerprint) before the destination's verify timeout. A
 * timeout is an outcome, not an error: the row is marked failed and the workflow rolls back.
 */
import { asyncLocalStorage } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { BUSINESS_ERROR_TYPES } from '../core/errors.js';
import type { TlsEndpoint } from '../core/types.js';
import { updateRollout } from '../db/deliveries.js';
import { findRolloutContext } from '../db/rollout-context.js';
import type { ActivityDeps } from './deps.js';
import { DestinationRefused, recordDestinationRefusal } from './destination-guard.js';
import { probeTlsEndpoint, type ProbeTarget } from './tls-probe.js';
import { noteFailure } from './failure-tracking.js';

/** The error group type of a rollout whose endpoints did not serve the new certificate in time. */
export const VERIFICATION_FAILED = 'VerificationFailed';

export interface VerifyServedInput {
  certificateId: string;
  versionId: string;
  destinationIndex: number;
  rolloutKey: string;
  /**
   * One round of probes and no waiting: a miss is not recorded as a failure, the caller goes on
   * to wait in a full verifyServed (whose deadline is anchored on the delivery all the same).
   */
  firstRoundOnly?: boolean;
}

export interface EndpointObservation {
  endpoint: string;
  /** SHA-256 fingerprint (lower-case hex) of the leaf the endpoint served last, or null if none was seen. */
  servedFingerprint: string | null;
  servedSerial: string | null;
  error: string | null;
}

export interface VerifyOutcome {
  served: boolean;
  /** For people: which endpoint served what, when `served` is false. */
  detail: string;
  endpoints: EndpointObservation[];
}

/** The certificate the endpoints must serve. */
export interface ExpectedCertificate {
  serial: string;
  fingerprintSha256: string;
  generation: number;
}

export interface WatchOptions {
  /** No new round starts after it; the first round always runs. */
  deadline: Date;
  now: () => Date;
  /** Called with each round's observations (the activity heartbeats them). */
  onRound?: (observations: EndpointObservation[], round: number) => void;
  sleep?: (ms: number) => Promise<void>;
  probe?: typeof probeTlsEndpoint;
}

const FIRST_DELAY_MS = 1_000;
const MAX_DELAY_MS = 15_000;
const PROBE_TIMEOUT_MS = 5_000;
const MIN_PROBE_TIMEOUT_MS = 1_000;

export async function verifyServed(deps: ActivityDeps, input: VerifyServedInput): Promise<VerifyOutcome> {
  // The certificate, the version, the rollout row and the team: one read.
  const found = await findRolloutContext(deps.db, input);
  if (!found) {
    throw ApplicationFailure.nonRetryable(`version ${input.versionId} of ${input.certificateId} does not exist`, BUSINESS_ERROR_TYPES.certificateNotFound);
  }
  const { certificate, version } = found;
  const destination = certificate.destinations[input.destinationIndex];
  if (!destination) {
    throw ApplicationFailure.nonRetryable(`certificate ${certificate.id} has no destination #${input.destinationIndex}`, BUSINESS_ERROR_TYPES.invalidRequest);
  }
  if (!destination.verify || destination.verify.endpoints.length === 0) return { served: true, detail: 'nothing to verify', endpoints: [] };

  const key = { versionId: input.versionId, destinationIndex: input.destinationIndex, rolloutKey: input.rolloutKey };
  const row = found.rollout;
  const ours = row?.rolloutKey === input.rolloutKey ? row : null;
  if (ours?.state === 'verified') return { served: true, detail: 'verified earlier', endpoints: [] };

  // Anchored on the delivery, so a retried activity keeps the deadline of the first attempt.
  const deadline = input.firstRoundOnly ? deps.now() : new Date((ours?.deliveredAt ?? deps.now()).getTime() + destination.verify.timeoutSeconds * 1000);
  const targets = destination.verify.endpoints.map((endpoint) => probeTarget(endpoint, certificate.dnsNames[0]));
  const activity = asyncLocalStorage.getStore(); // undefined when called outside a Temporal activity (tests)
  const policy = found.team?.policy.destinationHosts;
  // Every probe checks its host again, on the addresses it resolves to at that moment.
  const probe: typeof probeTlsEndpoint = async (target, timeoutMs) =>
    probeTlsEndpoint({ ...target, addresses: await deps.destinationGuard.admit(policy, target.host, target.port) }, timeoutMs);
  let outcome: VerifyOutcome;
  try {
    outcome = await watchEndpoints(
      targets,
      { serial: version.serial, fingerprintSha256: version.fingerprintSha256, generation: version.generation },
      {
        deadline,
        now: deps.now,
        // Local activities cannot heartbeat (their one round is short).
        onRound: (endpoints, round) => (activity?.info.isLocal ? undefined : activity?.heartbeat({ round, endpoints })),
        ...(activity ? { sleep: (ms: number) => activity.sleep(ms) } : {}),
        probe,
      },
    );
  } catch (error) {
    if (!(error instanceof DestinationRefused)) throw error;
    await recordDestinationRefusal(deps, {
      certificateId: certificate.id,
      teamId: certificate.teamId,
      action: 'destination.connect_refused',
      reason: error.message,
      dedupeKey: `destination-refused/${input.versionId}/${input.destinationIndex}/${input.rolloutKey}/verify`,
    });
    throw ApplicationFailure.nonRetryable(`verify endpoint refused before connecting: ${error.message}`, BUSINESS_ERROR_TYPES.destinationRejected);
  }
  if (input.firstRoundOnly && !outcome.served) return outcome;
  if (!outcome.served) deps.metrics?.verificationFailures.inc({ destination_type: destination.type });
  await updateRollout(
    deps.db,
    key,
    outcome.served ? { state: 'verified', verifiedAt: deps.now(), lastError: null } : { state: 'failed', lastError: outcome.detail },
  );
  if (!outcome.served) await noteFailure(deps, { activity: 'verifyServed', input, type: VERIFICATION_FAILED, message: outcome.detail });
  return outcome;
}

/**
 * Probes every endpoint, round after round with a doubling pause (1 s up to 15 s), until all serve
 * `expected` or the deadline passes.
 */
export async function watchEndpoints(targets: ProbeTarget[], expected: ExpectedCertificate, options: WatchOptions): Promise<VerifyOutcome> {
  const probe = options.probe ?? probeTlsEndpoint;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const started = options.now().getTime();
  let delay = FIRST_DELAY_MS;
  for (let round = 1; ; round++) {
    const remaining = options.deadline.getTime() - options.now().getTime();
    const timeoutMs = Math.max(MIN_PROBE_TIMEOUT_MS, Math.min(PROBE_TIMEOUT_MS, remaining));
    const observations = await Promise.all(targets.map((target) => observe(probe, target, timeoutMs)));
    options.onRound?.(observations, round);
    const wrong = observations.filter((observation) => observation.servedFingerprint !== expected.fingerprintSha256);
    if (wrong.length === 0) {
      return { served: true, detail: describeServed(observations.length, expected.serial), endpoints: observations };
    }
    const left = options.deadline.getTime() - options.now().getTime();
    if (left <= 0) {
      const waited = Math.max(0, Math.round((options.now().getTime() - started) / 1000));
      const problems = wrong.map((observation) => describeMismatch(observation, expected)).join('; ');
      return { served: false, detail: `not served after ${waited} s: ${problems}`, endpoints: observations };
    }
    await sleep(Math.min(delay, left));
    delay = Math.min(delay * 2, MAX_DELAY_MS);
  }
}

export function probeTarget(endpoint: TlsEndpoint, firstDnsName: string | undefined): ProbeTarget {
  return { host: endpoint.host, port: endpoint.port, serverName: endpoint.serverName ?? firstDnsName };
}

async function observe(probe: typeof probeTlsEndpoint, target: ProbeTarget, timeoutMs: number): Promise<EndpointObservation> {
  const endpoint = endpointLabel(target);
  try {
    const served = await probe(target, timeoutMs);
    return { endpoint, servedFingerprint: served.fingerprintSha256, servedSerial: served.serial, error: null };
  } catch (error) {
    // A refusal by policy is not an observation: it ends the verification (retrying cannot change it).
    if (error instanceof DestinationRefused) throw error;
    const message = (error as Error).message;
    const prefix = `${target.host}:${target.port}: `;
    return { endpoint, servedFingerprint: null, servedSerial: null, error: message.startsWith(prefix) ? message.slice(prefix.length) : message };
  }
}

function endpointLabel(target: ProbeTarget): string {
  const address = `${target.host}:${target.port}`;
  return target.serverName && target.serverName !== target.host ? `${address} (SNI ${target.serverName})` : address;
}

function describeMismatch(observation: EndpointObservation, expected: ExpectedCertificate): string {
  const wanted = `serial ${expected.serial} (generation ${expected.generation})`;
  if (observation.servedFingerprint === null) return `${observation.endpoint}: ${observation.error ?? 'no answer'} (expected ${wanted})`;
  return `${observation.endpoint} serves serial ${observation.servedSerial} (fingerprint ${observation.servedFingerprint}), not ${wanted}`;
}

function describeServed(count: number, serial: string): string {
  return count === 1 ? `the endpoint serves serial ${serial}` : `all ${count} endpoints serve serial ${serial}`;
}

import type { ActivityDeps } from './deps.js';

export interface VerifyServedInput {
  certificateId: string;
  versionId: string;
  destinationIndex: number;
  rolloutKey: string;
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

/** STUB — to be implemented: TLS-probes every endpoint until it serves the version or the destination's timeout passes. */
export async function verifyServed(_deps: ActivityDeps, _input: VerifyServedInput): Promise<VerifyOutcome> {
  throw new Error('not implemented');
}

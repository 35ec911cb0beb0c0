/** The activity object registered on the worker: each activity closes over its dependencies. */
import type { ActivityDeps } from './deps.js';
import { deliverToFile, type DeliverToFileInput } from './deliver-to-file.js';
import { issueCertificate, type IssueCertificateInput } from './issue-certificate.js';
import { revokeCertificate, type RevokeCertificateInput } from './revoke-certificate.js';

export function createActivities(deps: ActivityDeps) {
  return {
    issueCertificate: (input: IssueCertificateInput) => issueCertificate(deps, input),
    deliverToFile: (input: DeliverToFileInput) => deliverToFile(deps, input),
    revokeCertificate: (input: RevokeCertificateInput) => revokeCertificate(deps, input),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type { ActivityDeps } from './deps.js';

/** Refusals for certificates Certflow only tracks (imported or discovered): no lifecycle to signal, nothing Certflow could revoke. */
import { TRACKED_SOURCES } from '../core/types.js';
import type { CertificateRow } from '../db/certificates.js';
import { problems } from './problem.js';

export function refuseTracked(certificate: Pick<CertificateRow, 'id' | 'source'>, action: string): void {
  if (!(TRACKED_SOURCES as readonly string[]).includes(certificate.source)) return;
  throw problems.conflict(
    `certificate "${certificate.id}" is ${certificate.source}, not signed by Certflow: Certflow cannot ${action} it. ` +
      `Adopt it (POST /v1/certificates/${certificate.id}/adopt) for a managed certificate with the same names; revoke it at the CA that issued it.`,
  );
}

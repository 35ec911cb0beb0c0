/** @jsxImportSource hono/jsx */
/** A table of certificates as the API shows them, each linking to its dashboard page. */
import type { certificateView } from '../../views.js';
import { Time } from '../layout.js';

export type CertificateJson = ReturnType<typeof certificateView>;

export function StateBadge({ state }: { state: string }) {
  return <span class={`state state-${state}`}>{state}</span>;
}

export function certificateName(certificate: CertificateJson): string {
  return certificate.commonName ?? certificate.dnsNames[0] ?? certificate.ipAddresses[0] ?? certificate.uris[0] ?? certificate.id;
}

export function CertificatesTable({ items }: { items: CertificateJson[] }) {
  if (items.length === 0) return <p class="muted">No certificates match.</p>;
  return (
    <table id="certificates">
      <thead>
        <tr>
          <th>Name</th>
          <th>Team</th>
          <th>State</th>
          <th>Source</th>
          <th>Expires</th>
          <th>Certificate</th>
        </tr>
      </thead>
      <tbody>
        {items.map((certificate) => (
          <tr data-certificate-id={certificate.id}>
            <td>
              {certificateName(certificate)}
              {certificate.dnsNames.length > 1 ? <span class="muted"> +{certificate.dnsNames.length - 1}</span> : null}
            </td>
            <td>{certificate.teamId}</td>
            <td>
              <StateBadge state={certificate.state} />
            </td>
            <td>{certificate.source}</td>
            <td>
              <Time iso={certificate.currentVersion?.notAfter} />
            </td>
            <td>
              <a href={`/ui/certificates/${encodeURIComponent(certificate.id)}`}>{certificate.id}</a>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** @jsxImportSource hono/jsx */
/** The inventory: certificates filtered by team, state, source, name and how soon they expire. */
import { CERT_STATES, CERTIFICATE_SOURCES } from '../../../core/types.js';
import { CertificatesTable, type CertificateJson } from './certificates-table.js';

export interface InventoryFilters {
  team: string;
  state: string;
  source: string;
  name: string;
  expiringWithinDays: string;
  cursor: string;
}

export function InventoryPage({ filters, items, nextCursor }: { filters: InventoryFilters; items: CertificateJson[]; nextCursor: string | null }) {
  const next = new URLSearchParams({ ...filters, cursor: nextCursor ?? '' });
  return (
    <>
      <form method="get" action="/ui" class="filters" id="filters">
        <label>
          Team (name or id)
          <input name="team" value={filters.team} />
        </label>
        <label>
          State
          <select name="state">
            <option value="">any</option>
            {CERT_STATES.map((state) => (
              <option value={state} selected={filters.state === state}>
                {state}
              </option>
            ))}
          </select>
        </label>
        <label>
          Source
          {/* Free text: sources other than the listed ones (e.g. discovered certificates) are passed to the API as they are. */}
          <input name="source" list="sources" value={filters.source} />
          <datalist id="sources">
            {CERTIFICATE_SOURCES.map((source) => (
              <option value={source} />
            ))}
          </datalist>
        </label>
        <label>
          Name contains
          <input name="name" value={filters.name} />
        </label>
        <label>
          Expiring within (days)
          <input name="expiringWithinDays" type="number" min="1" max="3650" value={filters.expiringWithinDays} />
        </label>
        <button type="submit">Filter</button>
        <a href="/ui">Clear</a>
      </form>
      {filters.name ? <p class="muted">The name filter applies to the page of up to 200 certificates the other filters select.</p> : null}
      <CertificatesTable items={items} />
      {nextCursor ? (
        <p>
          <a href={`/ui?${next.toString()}`} id="next-page">
            Next page
          </a>
        </p>
      ) : null}
    </>
  );
}

/** Whether a certificate's names contain `needle` (case-insensitive). */
export function matchesName(certificate: CertificateJson, needle: string): boolean {
  const wanted = needle.toLowerCase();
  return [certificate.commonName ?? '', ...certificate.dnsNames, ...certificate.ipAddresses, ...certificate.uris].some((name) => name.toLowerCase().includes(wanted));
}

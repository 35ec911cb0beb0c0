/**
 * Human output of the `certflow` CLI: aligned tables and `key  value` blocks. Pure functions of
 * their inputs; `--json` output does not pass through here.
 */

export interface Column<Row> {
  header: string;
  value: (row: Row) => string | number | null | undefined;
  /** Numbers read best aligned right. */
  align?: 'left' | 'right';
}

/** Empty and missing values print as `-`, so every column has a token a reader (or awk) can count. */
function cell(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === '') return '-';
  return String(value).replace(/\s+/g, ' ');
}

/** A header row and one row per item, columns two spaces apart, no trailing spaces. */
export function formatTable<Row>(columns: Array<Column<Row>>, rows: readonly Row[]): string {
  const cells = rows.map((row) => columns.map((column) => cell(column.value(row))));
  const widths = columns.map((column, index) => Math.max(column.header.length, ...cells.map((line) => line[index]!.length)));
  const render = (line: string[]) =>
    line
      .map((text, index) => (columns[index]!.align === 'right' ? text.padStart(widths[index]!) : text.padEnd(widths[index]!)))
      .join('  ')
      .trimEnd();
  return [render(columns.map((column) => column.header)), ...cells.map(render)].join('\n');
}

/** `label  value` lines with the labels aligned; null values are left out. */
export function formatFields(fields: Array<[string, string | number | null | undefined]>): string {
  const shown = fields.filter(([, value]) => value !== null && value !== undefined && value !== '');
  const width = Math.max(0, ...shown.map(([label]) => label.length));
  return shown.map(([label, value]) => `${label.padEnd(width)}  ${String(value)}`).join('\n');
}

/** `2027-01-31T12:00:00.000Z` → `2027-01-31 12:00Z`: short enough for a table, still UTC. */
export function shortTime(iso: string | null | undefined): string | null {
  if (!iso) return null;
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(iso);
  return match ? `${match[1]} ${match[2]}Z` : iso;
}

/** `certflow issuers`: the CA's roots and intermediates, with their status and validity. */
import { z } from 'zod';
import { jsonApi } from './cli-api.js';
import { CliUsageError, CONNECTION_HELP, CONNECTION_OPTIONS, helpRequested, parseCommandArgs, printJson, resolveConnection, runCommand, type CliCommandSpec } from './cli-command.js';
import { EXIT_CODES_HELP, EXIT_OK } from './cli-exit.js';
import { formatTable, shortTime, type Column } from './cli-table.js';

const issuerSchema = z.looseObject({
  id: z.string(),
  kind: z.string(),
  parentId: z.string().nullable(),
  status: z.string(),
  commonName: z.string().optional(),
  keyAlgorithm: z.string().optional(),
  notAfter: z.string().optional(),
});
export type IssuerView = z.infer<typeof issuerSchema>;

export const ISSUER_COLUMNS: Array<Column<IssuerView>> = [
  { header: 'ID', value: (row) => row.id },
  { header: 'KIND', value: (row) => row.kind },
  { header: 'STATUS', value: (row) => row.status },
  { header: 'COMMON NAME', value: (row) => row.commonName },
  { header: 'KEY', value: (row) => row.keyAlgorithm },
  { header: 'NOT AFTER', value: (row) => shortTime(row.notAfter) },
  { header: 'PARENT', value: (row) => row.parentId },
];

const ISSUERS_USAGE = `usage: certflow issuers
  the CA's roots and intermediates (--json adds each certificate's PEM)
${CONNECTION_HELP}
${EXIT_CODES_HELP}`;

export const issuersCommand: CliCommandSpec = {
  name: 'issuers',
  summary: "list the CA's roots and intermediates",
  usage: ISSUERS_USAGE,
  run: (args, io) =>
    runCommand(issuersCommand, args, io, async () => {
      const { values, positionals } = parseCommandArgs(args, CONNECTION_OPTIONS);
      if (helpRequested(values, io, ISSUERS_USAGE)) return EXIT_OK;
      if (positionals.length > 0) throw new CliUsageError(`issuers takes options only; unexpected "${positionals.join(' ')}"`);
      const issuers = await jsonApi(await resolveConnection(values, io.env), io.fetch)('GET', '/v1/issuers', z.array(issuerSchema));
      if (values.json) printJson(io, { items: issuers });
      else io.out(formatTable(ISSUER_COLUMNS, issuers));
      return EXIT_OK;
    }),
};

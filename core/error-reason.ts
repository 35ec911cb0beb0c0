/**
 * What groups failures: the error's type and its message with the parts that differ from one
 * certificate to the next (ids, serials, fingerprints, numbers, addresses, quoted names) replaced by
 * placeholders, so "could not reach 10.0.0.7:443" and "could not reach 10.0.0.9:443" are one group. Pure.
 */
const MAX_REASON_LENGTH = 300;

const REPLACEMENTS: [RegExp, string][] = [
  [/\b(team|tok|iss|crt|ver|key|apr|agt|blk|prn|eab|acct|ord|authz|chl|err)_[A-Za-z0-9_-]+/g, '<id>'],
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uuid>'],
  [/\b[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){7,}\b/g, '<hex>'],
  [/\b(?=[0-9A-Fa-f]*[0-9])(?=[0-9A-Fa-f]*[A-Fa-f])[0-9A-Fa-f]{12,}\b/g, '<hex>'],
  [/\b\d{1,3}(\.\d{1,3}){3}\b/g, '<ip>'],
  [/\[[0-9a-fA-F:]*:[0-9a-fA-F:]+\]/g, '<ip>'],
  [/\*?\b(?:[a-z0-9-]+\.)+[a-z][a-z0-9-]*\b/gi, '<host>'],
  [/\b\d{4}-\d{2}-\d{2}T[\d:.]+Z?\b/g, '<time>'],
  [/"[^"\n]{1,200}"/g, '"…"'],
  [/'[^'\n]{1,200}'/g, "'…'"],
  [/\b\d+(\.\d+)?\b/g, '<n>'],
];

/**
 * What a webhook receiver wrote after its status (`… answered 400: <excerpt>`) is the receiver's
 * text: a team could make a new group with every answer. The group is the status; the excerpt stays
 * in the group's last message.
 */
const RECEIVER_EXCERPT = /^(.*\banswered \d{3}(?: \(redirects are not followed\))?): .*$/;

/** The grouping key of a failure message (also what the API shows as the group's reason). */
export function failureReason(message: string): string {
  let reason = message.split('\n')[0]!.trim().replace(RECEIVER_EXCERPT, '$1');
  for (const [pattern, placeholder] of REPLACEMENTS) reason = reason.replace(pattern, placeholder);
  reason = reason.replace(/\s+/g, ' ');
  return reason.length > MAX_REASON_LENGTH ? `${reason.slice(0, MAX_REASON_LENGTH - 1)}…` : reason || '(no message)';
}

/** The error type to group by: a Temporal ApplicationFailure's `type`, else the error's class name. */
export function failureType(error: unknown): string {
  if (error && typeof error === 'object') {
    const type = (error as { type?: unknown }).type;
    if (typeof type === 'string' && type !== '') return type.slice(0, 100);
    const name = (error as { name?: unknown }).name;
    if (typeof name === 'string' && name !== '') return name.slice(0, 100);
  }
  return 'Error';
}

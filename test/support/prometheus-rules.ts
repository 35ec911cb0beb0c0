/** The shipped alerting rules (deploy/prometheus/alerts.yml), as tests read them. */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export const ALERTS_FILE = fileURLToPath(new URL('../../deploy/prometheus/alerts.yml', import.meta.url));
export const OPERATIONS_DOC = fileURLToPath(new URL('../../docs/operations.md', import.meta.url));

/** Names of the alerts in the shipped file (`- alert: Name` lines, the file's one style). */
export async function shippedAlertNames(): Promise<string[]> {
  const text = await readFile(ALERTS_FILE, 'utf8');
  return [...text.matchAll(/^\s*- alert:\s*(\S+)\s*$/gm)].map((match) => match[1]!);
}

/**
 * The shipped rules with every `for:` set to `forValue`: a test copy for a Prometheus that should fire at once,
 * made from the shipped text so the two cannot drift (expressions, labels and annotations are the shipped ones).
 */
export async function rulesWithFor(forValue: string): Promise<string> {
  const text = await readFile(ALERTS_FILE, 'utf8');
  const rewritten = text.replace(/^(\s+for:\s*)\S+\s*$/gm, `$1${forValue}`);
  if (!/^\s+for:/m.test(text) || rewritten === text) throw new Error(`${ALERTS_FILE} has no "for:" to rewrite; the test copy would be the shipped file`);
  return rewritten;
}

/**
 * docker-compose.yml is generated from devservices/cluster-topology.ts, the definition `npm run dev:cluster`
 * starts: the committed file must be exactly the generated one, and valid under the Compose Specification
 * schema (compose-spec/compose-go's schema/compose-spec.json, fetched through the Go module proxy).
 */
import { readFile } from 'node:fs/promises';
import Ajv2020 from 'ajv/dist/2020.js';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { COMPOSE_FILE, composeFileText } from '../../devservices/compose-file.js';
import { TOPOLOGY } from '../../devservices/cluster-topology.js';
import { goModuleFile } from '../../devservices/go-module-file.js';
import { SEARCH_ATTRIBUTES } from '../../core/search-attributes.js';

// The newest release whose go.mod asks for a Go this machine has (v2.17.0 requires go >= 1.26.11).
const COMPOSE_GO_VERSION = 'v2.16.2';

describe('docker-compose.yml', () => {
  it('is the file generated from the cluster topology (run `npm run compose:generate` after changing it)', async () => {
    expect(await readFile(COMPOSE_FILE, 'utf8')).toBe(composeFileText());
  });

  it('is valid under the Compose Specification schema', { timeout: 120_000 }, async () => {
    const schema = JSON.parse(await readFile(await goModuleFile('github.com/compose-spec/compose-go/v2', COMPOSE_GO_VERSION, 'schema/compose-spec.json'), 'utf8')) as object;
    const ajv = new Ajv2020.default({ strict: false, allErrors: true, validateFormats: false });
    const validate = ajv.compile(schema);
    const document = yaml.load(await readFile(COMPOSE_FILE, 'utf8'));
    expect(validate(document), JSON.stringify(validate.errors, null, 2)).toBe(true);

    // The validator rejects what the specification rejects.
    expect(validate({ services: { api: { image: 'x', restart: 7 } } })).toBe(false);
  });

  it('registers every search attribute the workflows use, and runs the topology\'s workers and APIs', async () => {
    const document = yaml.load(await readFile(COMPOSE_FILE, 'utf8')) as { services: Record<string, { command?: string[] }> };
    const setup = document.services['temporal-setup']!.command!.join('\n');
    for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) expect(setup).toContain(`--name ${name} --type ${type}`);
    const names = Object.keys(document.services);
    expect(names.filter((name) => name.startsWith('certflow-worker-'))).toHaveLength(TOPOLOGY.workers);
    expect(names.filter((name) => name.startsWith('certflow-api-'))).toHaveLength(TOPOLOGY.apis);
  });
});

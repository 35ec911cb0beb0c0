/**
 * Vitest globalSetup of the `external` project: makes sure certtool, zlint and SoftHSM2 exist (installing or
 * building them when missing, see scripts/test-tools.ts) and provides their paths to the tests.
 * Progress of a first install/build goes to stderr; later runs find the tools and are silent.
 */
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { ensureTestTools } from '../../scripts/test-tools.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** GnuTLS certtool. */
    certtoolPath: string;
    /** zlint, pinned to ZLINT_VERSION. */
    zlintPath: string;
    softhsm2UtilPath: string;
    /** SoftHSM2's PKCS#11 module (libsofthsm2.so). */
    softhsmModulePath: string;
  }
}

export default async function setup(project: TestProject): Promise<void> {
  const tools = await ensureTestTools((message) => process.stderr.write(`[external-tools] ${message}\n`));
  project.provide('certtoolPath', tools.certtool);
  project.provide('zlintPath', tools.zlint);
  project.provide('softhsm2UtilPath', tools.softhsm2Util);
  project.provide('softhsmModulePath', tools.softhsmModule);
}

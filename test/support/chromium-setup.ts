/**
 * Vitest globalSetup of the integration project, next to global-setup.ts: makes sure Debian's chromium exists
 * for the dashboard's browser test (scripts/screenshot-temporal-ui.ts ensureChromium: `CHROMIUM_PATH`, or on PATH,
 * or apt-get install as root). If that fails, only the browser test fails, with the reason (`chromiumError`).
 */
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { ensureChromium } from '../../scripts/screenshot-temporal-ui.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Debian's chromium, or null when it could not be installed (see chromiumError). */
    chromiumPath: string | null;
    chromiumError: string | null;
  }
}

export default async function setup(project: TestProject): Promise<void> {
  const chromium = await ensureChromium(process.env, (message) => process.stderr.write(`[chromium] ${message}\n`)).then(
    (path) => ({ path, error: null }),
    (error: unknown) => ({ path: null, error: error instanceof Error ? error.message : String(error) }),
  );
  project.provide('chromiumPath', chromium.path);
  project.provide('chromiumError', chromium.error);
}

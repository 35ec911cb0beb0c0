/**
 * Headless Chromium for browser tests: Debian's `chromium` (installed by the integration global setup,
 * `chromiumPath`) driven by playwright-core, whose version is pinned to the Chromium that Debian ships
 * (package.json). As root (CI) Chromium cannot use its sandbox, so it runs with --no-sandbox there.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { inject } from 'vitest';

/** Screenshots of browser tests, kept as CI artifacts; git-ignored. */
export const UI_ARTIFACTS_DIR = path.resolve('test-artifacts', 'ui');

export async function launchChromium(): Promise<Browser> {
  const executablePath = inject('chromiumPath');
  if (!executablePath) throw new Error(`Chromium is not available: ${inject('chromiumError') ?? 'unknown reason'}`);
  await fs.mkdir(UI_ARTIFACTS_DIR, { recursive: true });
  const asRoot = process.getuid?.() === 0;
  return chromium.launch({ executablePath, headless: true, args: [...(asRoot ? ['--no-sandbox'] : []), '--disable-dev-shm-usage', '--disable-gpu'] });
}

export function screenshotPath(name: string): string {
  return path.join(UI_ARTIFACTS_DIR, `${name}.png`);
}

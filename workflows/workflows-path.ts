/**
 * Where the worker and the bundler find the workflow code. Not workflow code itself: no workflow
 * imports this file (node:url would break the bundle), so lint lets it use Node.
 */
import { fileURLToPath } from 'node:url';

export const WORKFLOWS_PATH = fileURLToPath(new URL('./index.ts', import.meta.url));

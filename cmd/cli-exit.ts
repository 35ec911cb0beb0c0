/**
 * The exit codes every `certflow` command that talks to the API ends with, and which code an API
 * error answer maps to. Scripts rely on them: keep them stable (README "CLI").
 */
import type { Problem } from './cli-api.js';

export const EXIT_OK = 0;
/** Anything else that went wrong: the API unreachable, a server error, an operation that failed. */
export const EXIT_FAILURE = 1;
/** Bad arguments (nothing was sent), or arguments the API found invalid (400). */
export const EXIT_USAGE = 2;
/** Not logged in, a token the API does not accept (401), or a token without the right (403). */
export const EXIT_AUTH = 3;
/** The certificate, team, token or operation does not exist or is not visible to this token (404). */
export const EXIT_NOT_FOUND = 4;
/** Refused: a conflict with the current state (409) or the team policy (403 policy-violation). */
export const EXIT_REFUSED = 5;
/** bulk-reissue: the operation completed, but some certificates failed. */
export const EXIT_SOME_FAILED = 6;
/** bulk-reissue: the operation was cancelled. */
export const EXIT_CANCELLED = 7;
/** login --oidc: nobody confirmed the device code before it expired. */
export const EXIT_LOGIN_EXPIRED = 8;
/** bulk-reissue: Ctrl-C stopped the watching; the operation keeps running. */
export const EXIT_STOPPED_WATCHING = 130;

export const EXIT_CODES_HELP = `exit codes: 0 ok, 1 failure, 2 usage (bad arguments; nothing sent), 3 auth (not logged in,
  token refused or not allowed), 4 not found, 5 refused (conflict or team policy),
  6 bulk reissue completed with failures, 7 bulk reissue cancelled, 8 OIDC device code expired,
  130 stopped watching`;

/** The exit code of an API error answer (status 0: the API was not reached). */
export function exitCodeForProblem(status: number, problem: Problem): number {
  if (status === 400) return EXIT_USAGE;
  if (status === 401) return EXIT_AUTH;
  if (status === 403) return typeof problem.type === 'string' && problem.type.endsWith('policy-violation') ? EXIT_REFUSED : EXIT_AUTH;
  if (status === 404) return EXIT_NOT_FOUND;
  if (status === 409 || status === 422) return EXIT_REFUSED;
  return EXIT_FAILURE;
}

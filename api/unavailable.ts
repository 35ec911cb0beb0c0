/** Whether an error means a dependency is down (answer 503 and let the client retry) rather than a bug. */

/** gRPC UNAVAILABLE / DEADLINE_EXCEEDED from Temporal; connection errors and shutdown/startup states from pg. */
const UNAVAILABLE_CODES: ReadonlySet<unknown> = new Set([14, 4, 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', '57P01', '57P02', '57P03', '08000', '08003', '08006']);
/** pg's own messages for a connection that broke or never came (they carry no code). */
const UNAVAILABLE_MESSAGE = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/;

export function isUnavailable(error: unknown): boolean {
  // drizzle wraps the driver's error ("Failed query: …") in `cause`; look through the chain.
  for (let current: unknown = error, depth = 0; current instanceof Object && depth < 4; current = (current as { cause?: unknown }).cause, depth++) {
    const { code, message } = current as { code?: unknown; message?: unknown };
    if (UNAVAILABLE_CODES.has(code) || (typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message))) return true;
  }
  return false;
}

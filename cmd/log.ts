/** Process-level logging for the entry points: one line per message, prefixed by component. */
export function logger(component: string): (message: string) => void {
  return (message) => console.log(`${new Date().toISOString()} [${component}] ${message}`);
}

/** Runs `main`, printing a clean one-line error (not a stack) for configuration mistakes. */
export function runMain(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    const message = error instanceof Error && error.name === 'ConfigError' ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error);
    console.error(`certflow: ${message}`);
    process.exit(1);
  });
}

/** Calls `stop` once on SIGINT/SIGTERM; a second signal exits at once. */
export function onShutdownSignal(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    console.log(`\nreceived ${signal}, shutting down…`);
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('shutdown failed:', error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

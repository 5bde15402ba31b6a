/**
 * Graceful shutdown of a process on SIGINT/SIGTERM, as `switchboard serve` does it, for apps that
 * start their server from a script of their own.
 */
import type { Logger } from '../logging.js';

/** Something that shuts down: a `SwitchboardServer`, or an app object that closes one and more. */
export interface Closeable {
  close(): Promise<unknown>;
}

/**
 * Shuts `target` down on SIGINT or SIGTERM: the first signal is logged (info) and calls
 * `target.close()` (for a `SwitchboardServer`: 1001 to every connection in batches, then the
 * consumers' `disconnect()`, bounded by `shutdownTimeoutMs`); the process then exits 0, or 1 when
 * `close()` rejects (logged as an error). A second signal exits 1 at once, without waiting, and
 * says so on stderr. This is the drain a process manager (systemd, Kubernetes) expects between its
 * SIGTERM and its SIGKILL.
 * @param signals - default `['SIGINT', 'SIGTERM']`.
 * @returns a function that removes the listeners again.
 * @example
 * ```ts
 * const { port } = await server.listen();
 * closeOnSignals(server, server.logger);
 * ```
 */
export function closeOnSignals(target: Closeable, logger: Logger, signals: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM']): () => void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      process.stderr.write(`${signal} again: exiting without waiting for connections to close\n`);
      process.exit(1);
    }
    stopping = true;
    logger.info(`${signal}: shutting down (closing connections with 1001); send ${signal} again to force`);
    target.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  for (const signal of signals) process.on(signal, onSignal);
  return () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
}

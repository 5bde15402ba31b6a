/**
 * The Redis channel layer's connection life: the first connection (operations wait for it, up
 * to `connectTimeoutMs`), outages (watched by `OutageMonitor`, logged once), and the recovery
 * after each one (the layer restores its subscriptions and memberships, then emits
 * `layer.reconnected`). Commands that must reach Redis run through {@link LayerSession.command},
 * which maps their failures with the backend's one mapping (`redis-errors.ts`).
 */
import type { RateLimitedWarnings } from '../rate-limited-warnings.js';
import { describeTarget } from './connection-options.js';
import { withTimeout, type LayerConnections } from './connections.js';
import type { ResolvedRedisOptions } from './options.js';
import { OutageMonitor } from './outage-monitor.js';
import { mapRedisError } from './redis-errors.js';
import { RedisUnavailableError } from './redis-unavailable-error.js';

/** Pause before the start-up subscriptions are tried again after a failure. */
const START_RETRY_MS = 100;

/** What the session asks of its layer. */
export interface LayerSessionHost {
  /** At the first connection: subscribe to what the layer always listens on (inbox, flush). */
  start(): Promise<void>;
  /** After an outage: restore subscriptions and memberships; rejects when Redis fails again. */
  restore(): Promise<void>;
  /** The restore succeeded: tell listeners (`layer.reconnected`). */
  restored(): void;
  /** An outage started. */
  down(): void;
  /** Whether the layer was closed. */
  isClosed(): boolean;
}

/** Start-up, outage and recovery state of one layer. */
export class LayerSession {
  readonly #config: ResolvedRedisOptions;
  readonly #host: LayerSessionHost;
  readonly #monitor: OutageMonitor;
  readonly #warnings: RateLimitedWarnings;
  /** `'cluster'` when one client does both jobs, else `'command'`. */
  readonly #commandName: string;
  readonly #started: Promise<void>;
  #resolveStarted!: () => void;
  #rejectStarted!: (err: Error) => void;
  #isStarted = false;
  #starting = false;
  #recoverEpoch = 0;

  constructor(config: ResolvedRedisOptions, connections: LayerConnections, host: LayerSessionHost, warnings: RateLimitedWarnings) {
    this.#config = config;
    this.#host = host;
    this.#warnings = warnings;
    this.#started = new Promise<void>((resolve, reject) => {
      this.#resolveStarted = resolve;
      this.#rejectStarted = reject;
    });
    this.#started.catch(() => {});
    this.#monitor = new OutageMonitor(config.logger, describeTarget(config), { ready: () => this.#onConnectionReady(), down: () => host.down() });
    const { command, subscriber } = connections;
    this.#commandName = command === subscriber ? 'cluster' : 'command';
    if (command === subscriber) {
      this.#monitor.watch('cluster', command);
    } else {
      this.#monitor.watch('command', command);
      this.#monitor.watch('subscriber', subscriber);
    }
  }

  /** Begins connecting (call once the layer is fully built). */
  begin(): void {
    this.#onConnectionReady();
  }

  /** Whether the first connection is up and the start-up subscriptions confirmed. */
  get isStarted(): boolean {
    return this.#isStarted;
  }

  /** Whether every connection is ready now (started, no outage). */
  get connected(): boolean {
    return this.#isStarted && this.#monitor.allUp();
  }

  /** Whether the command connection is ready now. */
  get commandUp(): boolean {
    return this.#monitor.isUp(this.#commandName);
  }

  /** Whether the layer is in an outage or a connection is down (no refreshes then). */
  get degraded(): boolean {
    return this.#monitor.inOutage || !this.#monitor.allUp();
  }

  /** Resolves once started; rejects with {@link RedisUnavailableError} after `timeoutMs`. */
  async whenStarted(timeoutMs = this.#config.connectTimeoutMs): Promise<void> {
    if (this.#isStarted) return;
    await withTimeout(this.#started, timeoutMs, () => {
      const last = this.#monitor.lastError;
      return new RedisUnavailableError(
        `no connection to Redis within ${timeoutMs} ms${last === undefined ? '' : ` (last error: ${last.message})`}; is Redis running at ${describeTarget(this.#config)}?`,
        last,
      );
    });
  }

  /**
   * Runs a command that must reach Redis and maps its failure: {@link RedisUnavailableError}
   * (logged once per outage), `LayerClosedError` after close, a server bug unchanged.
   * @param what - the operation as written in messages, e.g. `groupSize("chat")`.
   */
  async command<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      const mapped = mapRedisError(what, err, this.#host.isClosed(), 'the channel layer');
      if (mapped instanceof RedisUnavailableError) this.failed(what, err as Error);
      throw mapped;
    }
  }

  /** Reports a failed command: part of an outage (logged once) or, if Redis is up, a warning. */
  failed(op: string, err: Error): void {
    if (this.#host.isClosed()) return;
    this.#monitor.commandFailed(this.#commandName, err);
    if (this.#monitor.inOutage || !this.#isStarted) return;
    this.#warnings.warn(`command:${op}`, 1, { op, err: err.message }, `Redis command for ${op} failed: ${err.message}`);
  }

  /** Stops reporting and rejects anyone waiting for the first connection with `err` (close). */
  close(err: Error): void {
    this.#monitor.stop();
    this.#rejectStarted(err);
  }

  /** A connection became ready: finish start-up, or recover from an outage. */
  #onConnectionReady(): void {
    if (this.#host.isClosed() || !this.#monitor.allUp()) return;
    if (this.#isStarted) {
      if (this.#monitor.inOutage) void this.#recover();
      return;
    }
    if (this.#starting) return;
    this.#starting = true;
    this.#host.start().then(
      () => {
        this.#starting = false;
        if (this.#host.isClosed()) return;
        this.#isStarted = true;
        this.#monitor.arm();
        this.#resolveStarted();
      },
      (err: Error) => {
        this.#starting = false;
        this.#monitor.commandFailed('subscriber', err);
        if (this.#host.isClosed() || !this.#monitor.allUp()) return;
        // Connections can be ready before the client can subscribe (ioredis' Cluster emits
        // 'ready' before its sharded subscribers are): try again while they still look ready.
        setTimeout(() => this.#onConnectionReady(), START_RETRY_MS).unref();
      },
    );
  }

  /** After an outage: restore, then log the recovery once and tell the layer. */
  async #recover(): Promise<void> {
    const epoch = ++this.#recoverEpoch;
    try {
      await this.#host.restore();
      if (epoch !== this.#recoverEpoch || this.#host.isClosed()) return;
      this.#monitor.recovered();
      this.#host.restored();
    } catch (err) {
      if (epoch !== this.#recoverEpoch || this.#host.isClosed()) return;
      this.#monitor.commandFailed(this.#commandName, err as Error);
      // Connections that still look ready get another attempt; otherwise the next 'ready' retries.
      if (this.#monitor.allUp()) setTimeout(() => this.#onConnectionReady(), 500).unref();
    }
  }
}

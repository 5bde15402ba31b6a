/**
 * What a benchmark scenario's server is: started in a fresh child process (bench/server-host.ts),
 * it listens on a free loopback port and tells the runner where its clients connect and how.
 */

/** The wire protocol the receivers speak: plain WebSocket text frames, or Socket.IO v5 over Engine.IO v4. */
export type Protocol = 'ws' | 'socketio';

/** A running scenario server. */
export interface Hosted {
  /** Port on 127.0.0.1. */
  readonly port: number;
  /**
   * Where the clients connect: a path (`/ws/bench/`) for `ws`; for Socket.IO the base (`''`).
   * `{room}` in it is replaced by each client's room number (many small rooms).
   */
  readonly path: string;
  readonly protocol: Protocol;
  /** Sends broadcast number `i` to every receiver (fan-out scenarios whose sender is the server). */
  readonly broadcast?: (i: number) => void | Promise<unknown>;
  /** Connections the server holds open now. */
  open(): number;
  close(): Promise<void>;
}

/** Options every scenario server gets from the runner. */
export interface ScenarioOptions {
  /** Redis for the cross-process scenarios. */
  readonly redisUrl: string;
  /** Key prefix of this run's Redis channel layer, shared by the server and its publisher. */
  readonly redisPrefix: string;
  /** Which message the fan-out sends: the ~100-byte chat message or the ~1 KB reading. */
  readonly message: 'chat' | 'reading';
}

/** Starts a scenario's server. */
export type StartServer = (options: ScenarioOptions) => Promise<Hosted>;

/**
 * Prometheus metrics for a Switchboard process, through prom-client (`switchboard/metrics`, a
 * subpath export so the core never loads prom-client).
 *
 * The values are read from `SwitchboardServer.stats` and `ChannelLayer.stats` when Prometheus
 * scrapes (prom-client `collect`), so the hot path pays nothing: no counter is incremented per
 * message. Names follow the Prometheus conventions (`_total` for counters, base units).
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ChannelLayer } from '../layers/channel-layer.js';
import type { SwitchboardServer } from '../transport/server.js';

/** What to report. Either may be left out. */
export interface MetricsSources {
  readonly server?: Pick<SwitchboardServer, 'stats'>;
  readonly channelLayer?: Pick<ChannelLayer, 'stats'>;
}

/** One metric: its name, help, kind, and where its value comes from. */
interface MetricSpec {
  readonly name: string;
  readonly help: string;
  readonly kind: 'counter' | 'gauge';
  readonly source: 'server' | 'channelLayer';
  /** Field of that source's `stats`; a field the source does not have is not reported. */
  readonly field: string;
}

/** Every metric, in the order they are exposed. Documented in docs/metrics.md. */
export const METRICS: readonly MetricSpec[] = [
  { name: 'switchboard_connections_open', help: 'WebSocket connections open now', kind: 'gauge', source: 'server', field: 'connectionsOpen' },
  { name: 'switchboard_connections_accepted_total', help: 'WebSocket handshakes accepted', kind: 'counter', source: 'server', field: 'connectionsAccepted' },
  { name: 'switchboard_handshakes_rejected_total', help: 'WebSocket handshakes refused (404, 403, 429, 500, ...)', kind: 'counter', source: 'server', field: 'handshakesRejected' },
  { name: 'switchboard_slow_clients_closed_total', help: 'connections closed with 1013 because their send queue passed maxSendQueueBytes (backpressure)', kind: 'counter', source: 'server', field: 'slowClientsClosed' },
  { name: 'switchboard_dead_peers_dropped_total', help: 'connections dropped by the heartbeat (no pong)', kind: 'counter', source: 'server', field: 'deadPeersDropped' },
  { name: 'switchboard_handshakes_over_capacity_total', help: 'handshakes answered 503 at maxConnections or 429 at maxPendingHandshakesPerIp (also counted in handshakes_rejected)', kind: 'counter', source: 'server', field: 'handshakesOverCapacity' },
  { name: 'switchboard_handshakes_timed_out_total', help: 'handshakes refused because they did not finish within handshakeTimeoutMs', kind: 'counter', source: 'server', field: 'handshakesTimedOut' },
  { name: 'switchboard_messages_compressed_total', help: 'messages deflated for sharedCompression (once per shared message, not per connection)', kind: 'counter', source: 'server', field: 'messagesCompressed' },
  { name: 'switchboard_layer_messages_sent_total', help: 'channel layer send and groupSend calls accepted (a groupSend counts once)', kind: 'counter', source: 'channelLayer', field: 'messagesSent' },
  { name: 'switchboard_layer_group_send_drops_total', help: 'per-member drops on groupSend because the member channel was at capacity', kind: 'counter', source: 'channelLayer', field: 'groupSendDrops' },
  { name: 'switchboard_layer_messages_expired_total', help: 'queued channel layer messages removed after expiryMs', kind: 'counter', source: 'channelLayer', field: 'messagesExpired' },
  { name: 'switchboard_layer_publishes_total', help: 'Redis PUBLISH/SPUBLISH commands sent (Redis layer)', kind: 'counter', source: 'channelLayer', field: 'publishes' },
  { name: 'switchboard_layer_bare_publishes_total', help: 'groupSends published as one bare PUBLISH: the group had no named members (Redis layer)', kind: 'counter', source: 'channelLayer', field: 'barePublishes' },
  { name: 'switchboard_layer_scripted_publishes_total', help: 'groupSends that ran the Lua script: the group had (or recently had) named members, or the layer was reloading its marks (Redis layer)', kind: 'counter', source: 'channelLayer', field: 'scriptedPublishes' },
  { name: 'switchboard_layer_publish_failures_total', help: 'groupSends that could not be published because Redis was down; local members still got them (Redis layer)', kind: 'counter', source: 'channelLayer', field: 'publishFailures' },
  { name: 'switchboard_layer_inbox_drops_total', help: 'messages from other processes dropped because the local channel was full (Redis layer)', kind: 'counter', source: 'channelLayer', field: 'inboxDrops' },
  { name: 'switchboard_layer_undeliverable_total', help: 'direct sends to another process channel whose owner was gone (Redis layer)', kind: 'counter', source: 'channelLayer', field: 'undeliverable' },
  { name: 'switchboard_layer_decode_errors_total', help: 'frames from Redis that could not be decoded, skipped (Redis layer)', kind: 'counter', source: 'channelLayer', field: 'decodeErrors' },
  { name: 'switchboard_layer_outages_total', help: 'Redis outages seen since start (Redis layer)', kind: 'counter', source: 'channelLayer', field: 'outages' },
];

/**
 * Registers Switchboard's metrics on `registry` (a prom-client `Registry`), read from `sources`
 * at scrape time. Metrics whose source is missing, or whose field that source's `stats` lacks
 * (the Redis-only counters on the in-memory layer), are not registered.
 *
 * @returns the names registered.
 * @throws Error from prom-client when a metric of the same name is already registered on
 *   `registry` (register once per registry).
 * @example
 * ```ts
 * const registry = new Registry();
 * registerSwitchboardMetrics(registry, { server, channelLayer });
 * // GET /metrics: reply.type(registry.contentType).send(await registry.metrics())
 * ```
 */
export function registerSwitchboardMetrics(registry: Registry, sources: MetricsSources): string[] {
  const registered: string[] = [];
  for (const spec of METRICS) {
    const stats = sources[spec.source]?.stats as unknown as Record<string, unknown> | undefined;
    if (stats === undefined || typeof stats[spec.field] !== 'number') continue;
    const read = (): number => stats[spec.field] as number;
    if (spec.kind === 'gauge') {
      new Gauge({
        name: spec.name,
        help: spec.help,
        registers: [registry],
        collect() {
          this.set(read());
        },
      });
    } else {
      new Counter({
        name: spec.name,
        help: spec.help,
        registers: [registry],
        collect() {
          // The source keeps the running total; a counter only goes up, so reset and add it.
          this.reset();
          this.inc(read());
        },
      });
    }
    registered.push(spec.name);
  }
  return registered;
}

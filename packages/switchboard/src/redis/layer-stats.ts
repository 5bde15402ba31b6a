/** The counters of the Redis channel layer (`RedisChannelLayer.stats`). */
import type { ChannelLayerStats } from '../layers/channel-layer.js';

/** Counters of the Redis layer: the common ones plus Redis-specific ones. */
export interface RedisChannelLayerStats extends ChannelLayerStats {
  /** PUBLISH (or SPUBLISH) commands sent: one per `groupSend`, one per `send` to another process. */
  publishes: number;
  /** `groupSend`s published with one bare PUBLISH: the group has no named members (`named-groups.ts`). */
  barePublishes: number;
  /** `groupSend`s that took the scripted path: the group has (or recently had) named members, or the layer was (re)loading its marks. */
  scriptedPublishes: number;
  /** `groupSend`s that could not be published (Redis down); local members still got them. */
  publishFailures: number;
  /** Messages from other processes dropped because the local channel was full. */
  inboxDrops: number;
  /** Direct sends to another process's channel that no process was listening for (owner gone). */
  undeliverable: number;
  /** Frames from Redis that could not be decoded (skipped and logged). */
  decodeErrors: number;
  /** Redis outages seen since start-up. */
  outages: number;
}

/** Every counter at zero. */
export function newLayerStats(): RedisChannelLayerStats {
  return {
    messagesSent: 0,
    groupSendDrops: 0,
    messagesExpired: 0,
    publishes: 0,
    barePublishes: 0,
    scriptedPublishes: 0,
    publishFailures: 0,
    inboxDrops: 0,
    undeliverable: 0,
    decodeErrors: 0,
    outages: 0,
  };
}

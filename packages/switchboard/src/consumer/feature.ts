/**
 * Consumer features: behaviour a consumer lists in `features` instead of inheriting it from a
 * growing base class (history recovery, frame rate limits, presence; your own). A feature is an
 * object created per connection (a field initializer runs per consumer), with lifecycle hooks the
 * consumer calls in order of the list (docs/guide/consumers.md, "Features").
 *
 * @example
 * ```ts
 * class Chat extends JsonWebsocketConsumer<{ room: string }> {
 *   override groups = [`chat_${this.scope.urlRoute.kwargs.room}`];
 *   override features = [frameRateLimit({ limit: 20, windowMs: 10_000 }), historyRecovery(this.groups[0]!)];
 * }
 * ```
 */
import type { LayerMessage } from '../layers/channel-layer.js';
import type { ReceivedFrame, WebsocketConsumer } from './websocket.js';

/** What the consumer gives its features' hooks. */
export interface FeatureContext {
  /** The connection's consumer. */
  readonly consumer: WebsocketConsumer;
  /**
   * Runs the consumer's handler for `event` now (`chat.message` → `chatMessage(event)`), as if it
   * had arrived from the layer; for a feature's own hook only (it runs inside the serial queue).
   * Returns what the handler returned (await it when it is a promise).
   */
  dispatch(event: LayerMessage): unknown;
  /**
   * Ends the connection once the work queued before now has run: with `error.closeCode` when the
   * error is a `SwitchboardError` that has one, else 1011 (logged with its stack).
   */
  failAfterQueued(error: Error): void;
}

/**
 * Hooks of a consumer feature. All optional; each runs in the consumer's serial order, except
 * `frame`, which runs when the frame arrives (before it is queued).
 */
export interface ConsumerFeature {
  /** A name for logs and errors, e.g. `'historyRecovery'`. */
  readonly name: string;
  /** Once, when the connection starts (before the groups are joined): keep `context` for later calls. */
  attach?(context: FeatureContext): void;
  /**
   * After `connect()` returned with the connection accepted (never for a refused handshake).
   * Events that arrive meanwhile queue behind it.
   */
  connected?(context: FeatureContext): void | Promise<void>;
  /** A frame arrived; return `false` to drop it (it never reaches `receive`). */
  frame?(frame: ReceivedFrame, context: FeatureContext): boolean;
  /** Before a group or channel event reaches its handler; return `false` to skip it. */
  event?(event: LayerMessage, context: FeatureContext): boolean;
  /**
   * A layer-wide event (`layer.reconnected` after a Redis outage) the consumer has no handler for;
   * return `true` when the feature took care of it.
   */
  layerEvent?(event: LayerMessage, context: FeatureContext): boolean;
  /** After the socket closed and the groups were left, before `disconnect(code)`. */
  disconnected?(code: number, context: FeatureContext): void | Promise<void>;
}

// ---- how the consumer runs its features' hooks, in list order ---------------------------------

/** `connected` of every feature, awaiting those that return a promise. */
export async function runConnected(features: readonly ConsumerFeature[], context: FeatureContext): Promise<void> {
  for (const feature of features) {
    const result = feature.connected?.(context);
    if (result !== undefined) await result;
  }
}

/** `disconnected` of every feature; one that throws is logged and the others still run. */
export async function runDisconnected(features: readonly ConsumerFeature[], code: number, context: FeatureContext): Promise<void> {
  for (const feature of features) {
    try {
      await feature.disconnected?.(code, context);
    } catch (err) {
      context.consumer.logger.error({ err, feature: feature.name }, `${context.consumer.constructor.name}: feature ${feature.name} failed at disconnect`);
    }
  }
}

/** Whether every feature lets a frame through. */
export function acceptsFrame(features: readonly ConsumerFeature[], frame: ReceivedFrame, context: FeatureContext): boolean {
  for (const feature of features) if (feature.frame !== undefined && !feature.frame(frame, context)) return false;
  return true;
}

/** Whether every feature lets an event reach its handler. */
export function acceptsEvent(features: readonly ConsumerFeature[], event: LayerMessage, context: FeatureContext): boolean {
  for (let i = 0; i < features.length; i++) {
    const feature = features[i]!;
    if (feature.event !== undefined && !feature.event(event, context)) return false;
  }
  return true;
}

/** Offers a layer-wide event to the features until one takes it. */
export function offerLayerEvent(features: readonly ConsumerFeature[], event: LayerMessage, context: FeatureContext): void {
  for (const feature of features) if (feature.layerEvent?.(event, context)) return;
}

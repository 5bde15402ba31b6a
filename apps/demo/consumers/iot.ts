/**
 * The IoT live chart (SEEDS.md system 2, seed 001 example 2): `/two/` draws readings with Chart.js.
 *
 * - {@link SimulatedSensorConsumer} (`ws/two_url/`): the seed's `TwoConsumer`, `{"data": <0..100>}`
 *   every 2 s, 100 times, on a timer instead of an `asyncio.sleep` loop.
 * - {@link SensorConsumer} (`ws/iot/<sensor>/`): real sensors. Readings POSTed to
 *   `/api/iot/<sensor>/readings` (demo/iot/ingest-api.ts) are stored and group-sent to
 *   `iot_<sensor>`; a page that connects first gets the recent readings, then live ones.
 */
import { randomInt } from 'node:crypto';
import { JsonWebsocketConsumer, type ConsumerInit, type EventMap, type LayerMessage } from 'switchboard';
import type { ReadingsStore, StoredReading } from '../iot/readings-store.js';

import { TimedStreamConsumer } from './words.js';

/** Init arguments of {@link SensorConsumer}: where the readings' history comes from. */
export interface SensorConsumerArgs {
  readonly store: ReadingsStore;
}

/** Sensor names: what may follow `iot_` in a group name, kept short. */
export const SENSOR_NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;

/** The group a sensor's readings are sent to. */
export function sensorGroup(sensor: string): string {
  return `iot_${sensor}`;
}

/**
 * `ws/two_url/`: sends `{"data": <integer 0..100>}` every `intervalMs` (2000), `count` (100) times,
 * as the seed's simulated sensor does. Route `SimulatedSensorConsumer.with(streamOptions({intervalMs, count}))` for other values.
 */
export class SimulatedSensorConsumer extends TimedStreamConsumer {
  protected override nextMessage(): { data: number } {
    return { data: randomInt(0, 101) };
  }
}

/** The frame a page gets first on `ws/iot/<sensor>/`. */
export interface HistoryFrame {
  readonly type: 'history';
  readonly sensor: string;
  /** Oldest first, at most the store's `perSensor` (200). */
  readonly readings: readonly StoredReading[];
}

/** A live reading, as sent to every page watching the sensor. */
export interface ReadingFrame {
  readonly type: 'reading';
  readonly sensor: string;
  /** The store's sequence number, for deduplication and ordering on the page. */
  readonly seq: number;
  readonly value: number;
  /** ISO-8601, UTC. */
  readonly ts: string;
}

/**
 * The layer event group-sent to `iot_<sensor>` for one POST (one reading or a batch).
 * `frames` are the exact objects each consumer forwards: every member sends the same objects, so
 * each frame is JSON-encoded once per process, whatever the number of watchers (DESIGN.md §7).
 */
export interface IotReadingsEvent extends LayerMessage {
  readonly type: 'iot.readings';
  readonly sensor: string;
  readonly frames: readonly ReadingFrame[];
}

/** Builds the {@link IotReadingsEvent} for stored readings. */
export function readingsEvent(sensor: string, readings: readonly StoredReading[]): IotReadingsEvent {
  return {
    type: 'iot.readings',
    sensor,
    frames: readings.map((r) => ({ type: 'reading', sensor, seq: r.seq, value: r.value, ts: r.ts })),
  };
}

/**
 * `ws/iot/<sensor>/`: joins `iot_<sensor>`, sends `{type: 'history', sensor, readings}` (the recent
 * readings, oldest first), then `{type: 'reading', sensor, seq, value, ts}` for each new one.
 *
 * A sensor name outside `^[A-Za-z0-9_-]{1,64}$` is refused before the handshake (HTTP 403).
 * Readings that arrive while the history is being read are held until it was sent (the consumer
 * handles events one at a time), and a reading both in the history and in such a live event is
 * sent once. Client frames are ignored: this endpoint only pushes.
 *
 * Route it with its store: `SensorConsumer.with({ store })`.
 */
export class SensorConsumer extends JsonWebsocketConsumer<{ sensor: string }, EventMap, SensorConsumerArgs> {
  /** The sensor name from the path; validated in the constructor. */
  readonly sensor: string;
  readonly #valid: boolean;
  // seqs sent in the history: a live event that overlaps it must not repeat them.
  #historySeqs: Set<number> | undefined;
  #historyMaxSeq = 0;

  constructor(init: ConsumerInit<{ sensor: string }, SensorConsumerArgs>) {
    super(init);
    // `sensor` comes from the client (the URL path): validate it before it names a group.
    this.sensor = String(init.scope.urlRoute.kwargs.sensor ?? '');
    this.#valid = SENSOR_NAME_RE.test(this.sensor);
    this.groups = this.#valid ? [sensorGroup(this.sensor)] : [];
  }

  override async connect(): Promise<void> {
    if (!this.#valid) {
      this.close();
      return;
    }
    const store = this.args?.store;
    if (store === undefined) throw new Error('SensorConsumer has no store: route SensorConsumer.with({ store })');
    // Joined the group before reading the history: nothing posted from now on can be missed.
    const readings = await store.recent(this.sensor);
    this.accept();
    if (readings.length > 0) {
      this.#historySeqs = new Set(readings.map((r) => r.seq));
      this.#historyMaxSeq = readings[readings.length - 1]!.seq;
    }
    const frame: HistoryFrame = { type: 'history', sensor: this.sensor, readings };
    this.sendJson(frame);
  }

  /** Handles {@link IotReadingsEvent}: forwards each reading frame. */
  iotReadings(event: IotReadingsEvent): void {
    const seen = this.#historySeqs;
    for (const frame of event.frames) {
      if (seen !== undefined) {
        if (seen.has(frame.seq)) continue;
        // Past the history: later events cannot overlap it any more.
        if (frame.seq > this.#historyMaxSeq) this.#historySeqs = undefined;
      }
      this.sendJson(frame);
    }
  }

  /** This endpoint only pushes; client frames are ignored. */
  override receiveJson(_content: unknown): void {}
}

/**
 * The messages the benchmarks send: a ~100-byte chat message (fan-out, many small rooms) and a
 * ~1 KB compressible JSON reading (compression). Each carries its number, so no two broadcasts
 * are equal and no server can reuse an earlier encoding.
 */

/** A chat message as the demo's chat room sends it. */
export interface ChatMessage {
  message: string;
  username: string;
}

/** Broadcast `i`: `{"message":"#i xxx…","username":"bench"}`, ~100 bytes of JSON. */
export function chat(i: number): ChatMessage {
  return { message: `#${i} ${'x'.repeat(64)}`, username: 'bench-user' };
}

const sensors = Array.from({ length: 12 }, (_, k) => `sensor-${String(k).padStart(2, '0')}`);

/** Broadcast `i` of the compression scenarios: sensor readings, ~1 KB of repetitive JSON. */
export function reading(i: number): { message: string; username: string; readings: Array<Record<string, string | number | boolean>> } {
  return {
    message: `#${i} readings`,
    username: 'bench-iot',
    readings: sensors.map((name, k) => ({ name, unit: 'celsius', value: 20 + ((i + k) % 7), ok: true, site: 'warehouse-north' })),
  };
}

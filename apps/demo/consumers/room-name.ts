/**
 * Room names of the chat and the dice game, and the channel-layer groups they map to.
 *
 * The seeds route `ws/chat/(?P<room_name>\w+)/$`, and Python 3's `\w` is Unicode: `房间1` and
 * `café` are rooms there, so they are here. A room name is 1 to {@link ROOM_NAME_MAX_CHARS}
 * letters, marks, digits (Unicode `\p{L}\p{M}\p{N}`), `_` or `-`, in Unicode NFC (a name typed
 * decomposed is the same room as the composed one).
 *
 * Groups allow only `[A-Za-z0-9._-]{1,99}` (docs/channel-layer-spec.md), so the group of a room is
 * `<prefix><name>` for an ASCII name (`chat_lobby`, as in the seeds) and `<prefix>.<base64url of
 * the UTF-8 bytes>` otherwise (`chat_.5oi_6Ze0MQ` for `房间1`). Room names never contain `.`, so
 * the two forms cannot collide, and {@link roomFromGroup} turns a group back into its room. A
 * non-ASCII name may have at most {@link ROOM_NAME_MAX_UTF8_BYTES} bytes of UTF-8 (23 Chinese
 * characters, 34 accented Latin letters), so that its group fits in 99 characters.
 */

/** Most characters (code points) in a room name. */
export const ROOM_NAME_MAX_CHARS = 64;

/** Most UTF-8 bytes in a non-ASCII room name: `prefix.` (6) + base64url of 69 bytes (92) = 98 ≤ 99. */
export const ROOM_NAME_MAX_UTF8_BYTES = 69;

/** The characters of a room name (the seeds' `\w`, plus `-`). */
export const ROOM_NAME_CHARS = /^[\p{L}\p{M}\p{N}_-]+$/u;

/** What the HTML inputs check before submitting (the server checks again). */
export const ROOM_NAME_HTML_PATTERN = '[\\p{L}\\p{M}\\p{N}_\\-]{1,64}';

/** An ASCII room name: its group is `<prefix><name>`, as the seeds' `chat_%s`. */
const ASCII_NAME = /^[A-Za-z0-9_-]+$/;

/** Group prefixes of the two systems with rooms. */
export type RoomGroupPrefix = 'chat_' | 'game_';

/**
 * The room name as rooms are keyed: `raw` in Unicode NFC, or `null` when `raw` is not a string.
 * `raw` comes from the client (a URL): nothing else is done to it.
 */
export function normalizeRoomName(raw: unknown): string | null {
  return typeof raw === 'string' ? raw.normalize('NFC') : null;
}

/**
 * Why `name` is not a room name, in words a visitor can act on; `null` when it is one. `name`
 * must already be normalised ({@link normalizeRoomName}).
 */
export function roomNameProblem(name: string): string | null {
  if (name.length === 0) return 'Enter a room name.';
  const chars = [...name].length;
  if (chars > ROOM_NAME_MAX_CHARS) return `That room name has ${chars} characters; use at most ${ROOM_NAME_MAX_CHARS}.`;
  if (!ROOM_NAME_CHARS.test(name)) {
    const bad = [...name].find((c) => !ROOM_NAME_CHARS.test(c)) ?? '';
    return `"${name}" is not a valid room name: ${JSON.stringify(bad)} is not allowed; use letters (any script), digits, "_" or "-".`;
  }
  if (!ASCII_NAME.test(name)) {
    const bytes = Buffer.byteLength(name);
    if (bytes > ROOM_NAME_MAX_UTF8_BYTES) {
      return `That room name is too long: ${bytes} bytes of UTF-8; a name with non-ASCII letters may have ${ROOM_NAME_MAX_UTF8_BYTES} (23 Chinese characters, or 34 accented letters).`;
    }
  }
  return null;
}

/** Whether `name` is a valid, normalised room name. */
export function isValidRoomName(name: unknown): name is string {
  return typeof name === 'string' && name === name.normalize('NFC') && roomNameProblem(name) === null;
}

/**
 * The group of room `name` (see the module comment).
 * @throws RangeError for a name that is not a valid, normalised room name.
 */
export function roomGroup(prefix: RoomGroupPrefix, name: string): string {
  if (!isValidRoomName(name)) throw new RangeError(`roomGroup(${JSON.stringify(prefix)}, ${JSON.stringify(name)}): not a valid room name`);
  return ASCII_NAME.test(name) ? `${prefix}${name}` : `${prefix}.${Buffer.from(name, 'utf8').toString('base64url')}`;
}

/** The room whose group is `group` (the inverse of {@link roomGroup}), or `null` for a group of no room. */
export function roomFromGroup(prefix: RoomGroupPrefix, group: string): string | null {
  if (!group.startsWith(prefix)) return null;
  const rest = group.slice(prefix.length);
  let name = rest;
  if (rest.startsWith('.')) {
    const encoded = rest.slice(1);
    if (!/^[A-Za-z0-9_-]+$/.test(encoded)) return null;
    name = Buffer.from(encoded, 'base64url').toString('utf8');
    // Only the canonical encoding of a non-ASCII name maps back (no second spelling of a group).
    if (ASCII_NAME.test(name) || Buffer.from(name, 'utf8').toString('base64url') !== encoded) return null;
  }
  return isValidRoomName(name) ? name : null;
}

/**
 * Presence on the wire (Phoenix's `presence_state` / `presence_diff`, by key): shared by the
 * server's presence feature and the client SDK. No imports, so the browser client bundles it.
 */

/** `type` of the frame a member gets once, after joining: who is here. */
export const PRESENCE_STATE_TYPE = 'presence.state';
/** `type` of a change: keys that joined (first connection) or left (last connection). */
export const PRESENCE_DIFF_TYPE = 'presence.diff';

/** One present key: the info given when it joined, and its live connections (tabs, devices). */
export interface PresenceMeta {
  readonly info: Readonly<Record<string, unknown>>;
  readonly connections: number;
}

/** `{type: 'presence.state', group, presences: {<key>: meta}}`. */
export interface PresenceStateFrame {
  readonly type: typeof PRESENCE_STATE_TYPE;
  readonly group: string;
  readonly presences: Readonly<Record<string, PresenceMeta>>;
}

/**
 * `{type: 'presence.diff', group, joins, leaves, updates}`, each `{<key>: meta}`: keys that joined
 * (first connection), left (last connection), or stayed with another connection count.
 */
export interface PresenceDiffFrame {
  readonly type: typeof PRESENCE_DIFF_TYPE;
  readonly group: string;
  readonly joins: Readonly<Record<string, PresenceMeta>>;
  readonly leaves: Readonly<Record<string, PresenceMeta>>;
  readonly updates?: Readonly<Record<string, PresenceMeta>>;
}

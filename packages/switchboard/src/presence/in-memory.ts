/**
 * `InMemoryPresenceStore`: presence for one process (the default, like the in-memory layer).
 * Nothing expires: the process that holds the connections is the one that removes them.
 */
import { validateGroupName } from '../layers/channel-layer.js';
import type { PresenceChange, PresenceEntry, PresenceStore } from './presence-store.js';

interface KeyState {
  info: Record<string, unknown>;
  connections: Set<string>;
}

/** Presence kept in this process's memory. */
export class InMemoryPresenceStore implements PresenceStore {
  readonly #groups = new Map<string, Map<string, KeyState>>();

  async add(group: string, key: string, connectionId: string, info: Record<string, unknown> = {}): Promise<PresenceChange> {
    validateGroupName(group, 'presence.add');
    let keys = this.#groups.get(group);
    if (!keys) this.#groups.set(group, (keys = new Map()));
    let state = keys.get(key);
    const changed = state === undefined || state.connections.size === 0;
    if (!state) keys.set(key, (state = { info, connections: new Set() }));
    state.info = info;
    state.connections.add(connectionId);
    return { changed };
  }

  async remove(group: string, key: string, connectionId: string): Promise<PresenceChange> {
    const keys = this.#groups.get(group);
    const state = keys?.get(key);
    if (!keys || !state || !state.connections.delete(connectionId)) return { changed: false };
    if (state.connections.size > 0) return { changed: false };
    keys.delete(key);
    if (keys.size === 0) this.#groups.delete(group);
    return { changed: true };
  }

  async list(group: string): Promise<PresenceEntry[]> {
    const keys = this.#groups.get(group);
    if (!keys) return [];
    return [...keys.entries()]
      .map(([key, s]) => ({ key, info: s.info, connections: s.connections.size }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async close(): Promise<void> {
    this.#groups.clear();
  }
}

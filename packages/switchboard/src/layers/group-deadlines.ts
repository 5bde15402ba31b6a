/**
 * A channel's groups and the deadline of each membership (`Date.now()` ms): the reverse index of
 * the local core. Most channels are in one to a few groups, so the index is a flat array
 * `[group, deadline, group, deadline, …]` (about 64 bytes for one group, where a `Map` holds a
 * hash table of about 400 bytes: docs/architecture.md, "Memory per connection"), and becomes a
 * `Map` past {@link ARRAY_LIMIT} groups so that a channel in thousands of groups keeps constant
 * time lookups.
 */
export type GroupDeadlines = Array<string | number> | Map<string, number>;

/** Groups held in the flat array before it becomes a `Map`. */
const ARRAY_LIMIT = 16;

/** Where `group` sits in a flat list (its name's index), or -1. */
function indexIn(list: Array<string | number>, group: string): number {
  for (let i = 0; i < list.length; i += 2) if (list[i] === group) return i;
  return -1;
}

/** The deadline of `channel`'s membership of `group`, or `undefined` when it is no member. */
export function deadlineOf(groups: GroupDeadlines | undefined, group: string): number | undefined {
  if (groups === undefined) return undefined;
  if (groups instanceof Map) return groups.get(group);
  const i = indexIn(groups, group);
  return i === -1 ? undefined : (groups[i + 1] as number);
}

/** Sets the deadline of `group`; returns the index to keep (a new one when `groups` was `undefined` or outgrew the array). */
export function withDeadline(groups: GroupDeadlines | undefined, group: string, deadline: number): GroupDeadlines {
  if (groups === undefined) return [group, deadline];
  if (groups instanceof Map) return groups.set(group, deadline);
  const i = indexIn(groups, group);
  if (i !== -1) {
    groups[i + 1] = deadline;
    return groups;
  }
  if (groups.length < ARRAY_LIMIT * 2) {
    groups.push(group, deadline);
    return groups;
  }
  const map = new Map<string, number>();
  for (let j = 0; j < groups.length; j += 2) map.set(groups[j] as string, groups[j + 1] as number);
  return map.set(group, deadline);
}

/** Removes `group` (nothing when it is absent). */
export function withoutGroup(groups: GroupDeadlines | undefined, group: string): void {
  if (groups === undefined) return;
  if (groups instanceof Map) {
    groups.delete(group);
    return;
  }
  const i = indexIn(groups, group);
  if (i !== -1) groups.splice(i, 2);
}

/** The groups, in the order they were joined. */
export function groupNames(groups: GroupDeadlines | undefined): string[] {
  if (groups === undefined) return [];
  if (groups instanceof Map) return [...groups.keys()];
  const names: string[] = [];
  for (let i = 0; i < groups.length; i += 2) names.push(groups[i] as string);
  return names;
}

/** Whether the channel is in no group. */
export function inNoGroup(groups: GroupDeadlines | undefined): boolean {
  return groups === undefined || (groups instanceof Map ? groups.size === 0 : groups.length === 0);
}

/**
 * Stored chat messages: a room page shows the last ones on open, then live ones.
 */
import type { Kysely } from 'kysely';
import type { DatabaseSchema } from './database.js';

/** One stored message. */
export interface ChatMessage {
  readonly id: number;
  readonly room: string;
  readonly username: string;
  readonly message: string;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
}

/** What {@link ChatMessageRepository.add} stores. */
export interface NewChatMessage {
  /** Room name (the route's `room_name`), at most 100 characters. */
  room: string;
  /** Author as shown: the session's username, or a guest name. At most 64 characters. */
  username: string;
  /** Text as sent by the client (validated by the consumer; escaped when rendered). */
  message: string;
  /** Default `Date.now()`. */
  createdAt?: number;
}

/** Most messages {@link ChatMessageRepository.recent} returns at once. */
export const MAX_HISTORY = 500;

/** Chat messages in the `chat_messages` table. */
export class ChatMessageRepository {
  readonly #db: Kysely<DatabaseSchema>;

  constructor(db: Kysely<DatabaseSchema>) {
    this.#db = db;
  }

  /**
   * Stores a message.
   * @throws RangeError for an empty or too long room or username (the schema's limits).
   */
  async add(input: NewChatMessage): Promise<ChatMessage> {
    if (input.room.length < 1 || input.room.length > 100) throw new RangeError(`room names have 1 to 100 characters; got ${input.room.length}`);
    if (input.username.length < 1 || input.username.length > 64) throw new RangeError(`usernames have 1 to 64 characters; got ${input.username.length}`);
    const createdAt = input.createdAt ?? Date.now();
    const row = await this.#db
      .insertInto('chat_messages')
      .values({ room: input.room, username: input.username, message: input.message, created_at: createdAt })
      .returning('id')
      .executeTakeFirstOrThrow();
    return { id: Number(row.id), room: input.room, username: input.username, message: input.message, createdAt };
  }

  /**
   * The last `limit` messages of `room`, oldest first (insertion order: ids grow with each insert,
   * so two messages in the same millisecond keep their order).
   * @param limit - 1 to {@link MAX_HISTORY}; default 50.
   * @throws RangeError for a `limit` out of range.
   */
  async recent(room: string, limit = 50): Promise<ChatMessage[]> {
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_HISTORY) throw new RangeError(`limit must be 1 to ${MAX_HISTORY}; got ${limit}`);
    const rows = await this.#db
      .selectFrom('chat_messages')
      .select(['id', 'room', 'username', 'message', 'created_at'])
      .where('room', '=', room)
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.reverse().map((r) => ({ id: Number(r.id), room: r.room, username: r.username, message: r.message, createdAt: Number(r.created_at) }));
  }

  /**
   * The messages of `room` stored after id `afterId`, oldest first, at most `limit`: a reader's
   * catch-up from its last message (exactly once: ids are unique and grow with each insert).
   * @param limit - 1 to {@link MAX_HISTORY}; default {@link MAX_HISTORY}.
   * @throws RangeError for a negative or non-integer `afterId`, or a `limit` out of range.
   */
  async after(room: string, afterId: number, limit = MAX_HISTORY): Promise<ChatMessage[]> {
    if (!Number.isSafeInteger(afterId) || afterId < 0) throw new RangeError(`afterId must be a whole number >= 0; got ${afterId}`);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_HISTORY) throw new RangeError(`limit must be 1 to ${MAX_HISTORY}; got ${limit}`);
    const rows = await this.#db
      .selectFrom('chat_messages')
      .select(['id', 'room', 'username', 'message', 'created_at'])
      .where('room', '=', room)
      .where('id', '>', afterId)
      .orderBy('id', 'asc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ id: Number(r.id), room: r.room, username: r.username, message: r.message, createdAt: Number(r.created_at) }));
  }
}

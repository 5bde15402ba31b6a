/**
 * The demo's worker channels (Channels' `ChannelNameRouter` + `runworker`), served by
 * `switchboard worker chat-archive` in a process of its own, on the Redis layer.
 *
 * `chat-archive` keeps a transcript per room: `chat.archive` appends one line to
 * `<CHAT_ARCHIVE_DIR>/<group>.jsonl` (default `./data/chat-archive`), off the connections' path;
 * `chat.transcript` tells the room, through the layer, how many messages are archived.
 *
 * @example
 * ```sh
 * CHANNEL_LAYER_URL=redis://127.0.0.1:6379/0 switchboard worker chat-archive
 * CHANNEL_LAYER_URL=redis://127.0.0.1:6379/0 switchboard send --channel chat-archive \
 *   --type chat.archive --data '{"group":"chat_lobby","username":"ada","message":"hi"}'
 * ```
 */
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { BadRequestError, ChannelConsumer, ChannelNameRouter, validateGroupName, type ChannelConsumerClass, type LayerMessage } from 'switchboard';

/** The worker channel of the chat archive. */
export const CHAT_ARCHIVE_CHANNEL = 'chat-archive';

/** Longest message archived, in UTF-16 units (the chat accepts 2,000 characters). */
const MAX_ARCHIVED_CHARS = 4_000;

/** `chat.archive`: one chat message to keep. Fields come from whoever sent it: validated. */
export interface ChatArchiveEvent extends LayerMessage {
  readonly type: 'chat.archive';
  readonly group: string;
  readonly username: string;
  readonly message: string;
}

/** `chat.transcript`: ask for a notice to the room with the number of archived messages. */
export interface ChatTranscriptEvent extends LayerMessage {
  readonly type: 'chat.transcript';
  readonly group: string;
}

function field(event: LayerMessage, name: string): string {
  const value = event[name];
  if (typeof value !== 'string' || value.length === 0) {
    throw new BadRequestError(`${event.type}: "${name}" must be a non-empty string, got ${value === undefined ? 'nothing' : typeof value}`);
  }
  return value;
}

/**
 * Serves `chat-archive`. One instance per worker process; events are handled one at a time, so
 * the lines of one file never interleave within a process.
 */
export class ChatArchiveConsumer extends ChannelConsumer {
  /** Directory of the `<group>.jsonl` files. Subclasses (see {@link createWorkerRouter}) set it. */
  get archiveDir(): string {
    return resolve('data', 'chat-archive');
  }

  /** Appends `{at, username, message}` to the room's file. */
  async chatArchive(event: LayerMessage): Promise<void> {
    const group = field(event, 'group');
    validateGroupName(group, 'chat.archive');
    const username = field(event, 'username');
    const message = field(event, 'message');
    if (message.length > MAX_ARCHIVED_CHARS) throw new BadRequestError(`chat.archive: "message" is over ${MAX_ARCHIVED_CHARS} characters`);
    await mkdir(this.archiveDir, { recursive: true, mode: 0o700 });
    // The group name allows [A-Za-z0-9._-] only, so `<group>.jsonl` stays inside archiveDir.
    await appendFile(this.#file(group), `${JSON.stringify({ at: new Date().toISOString(), username, message })}\n`, { mode: 0o600 });
    this.logger.debug({ group }, `chat-archive: archived a message of ${group}`);
  }

  /** Sends the room a `chat.message` from `archive` saying how many of its messages are kept. */
  async chatTranscript(event: LayerMessage): Promise<void> {
    const group = field(event, 'group');
    validateGroupName(group, 'chat.transcript');
    let count = 0;
    try {
      const text = await readFile(this.#file(group), 'utf8');
      for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) count++;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const message = count === 0 ? 'No message of this room is archived yet.' : `${count} message(s) of this room are archived.`;
    const { recipients } = await this.channelLayer.groupSend(group, { type: 'chat.message', payload: { message, username: 'archive' } });
    this.logger.info({ group, count, recipients }, `chat-archive: told ${group} about ${count} archived message(s)`);
  }

  #file(group: string): string {
    return join(this.archiveDir, `${group}.jsonl`);
  }
}

/** Options of {@link createWorkerRouter}. */
export interface WorkerRouterOptions {
  /** Where `chat-archive` writes. Default `CHAT_ARCHIVE_DIR`, else `./data/chat-archive`. */
  archiveDir?: string;
}

/** The demo's worker router: `chat-archive` → {@link ChatArchiveConsumer}. */
export function createWorkerRouter(options: WorkerRouterOptions = {}): ChannelNameRouter {
  const dir = resolve(options.archiveDir ?? (process.env['CHAT_ARCHIVE_DIR'] || join('data', 'chat-archive')));
  const Archive: ChannelConsumerClass = class extends ChatArchiveConsumer {
    override get archiveDir(): string {
      return dir;
    }
  };
  return new ChannelNameRouter({ [CHAT_ARCHIVE_CHANNEL]: Archive });
}

/** The worker module for `switchboard worker --app dist/workers/index.js chat-archive` (the CLI calls it). */
export default createWorkerRouter;

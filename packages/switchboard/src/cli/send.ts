/**
 * `switchboard send`: pushes an event into a group (or a named channel) from outside any
 * connection, seed 002's `python manage.py send_message`.
 *
 * - With `CHANNEL_LAYER_URL=redis://…` (or `--channel-layer-url`) it publishes through the layer
 *   itself (`getChannelLayer()` + `groupSend`), like Channels' `async_to_sync(channel_layer.group_send)`.
 * - With `--url <publish endpoint>` it asks a running server to publish: `POST` to the endpoint
 *   the app mounted with `createPublishHandler`, with `Authorization: Bearer $SWITCHBOARD_PUBLISH_TOKEN`.
 *   This reaches an in-memory layer, which lives inside the server process.
 *
 * Exit codes: 0 sent; 1 could not send (server unreachable, token refused, Redis down);
 * 2 bad arguments (unparsable `--data`, bad group or channel name, bad event type, no target).
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_LAYER_OPTIONS, validateChannelName, validateGroupName, validateMessage, type LayerMessage } from '../layers/channel-layer.js';
import { getChannelLayer } from '../layers/get-channel-layer.js';
import { handlerNameFor } from '../consumer/handler-name.js';
import { ConfigError, SwitchboardError } from '../errors.js';

/** Options of {@link runSend}, as the flags give them. */
export interface SendOptions {
  group?: string;
  channel?: string;
  type: string;
  /** A JSON object: the event's fields besides `type`. Default `{}`. */
  data?: string;
  /** The publish endpoint of a running server (`createPublishHandler`), e.g. `http://127.0.0.1:8000/api/publish`. */
  url?: string;
  /** Overrides `CHANNEL_LAYER_URL`. */
  channelLayerUrl?: string;
  /** How long to wait for the server or Redis. Default 10_000 ms. */
  timeoutMs?: number;
}

/** A failure with the exit code it maps to (1 runtime, 2 usage). */
export class SendError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2,
  ) {
    super(message);
    this.name = 'SendError';
  }
}

/** Where {@link runSend} reads its environment and writes its report. */
export interface SendIo {
  /** Prints one line of the report (stdout). */
  out(line: string): void;
  /** `CHANNEL_LAYER_URL` and `SWITCHBOARD_PUBLISH_TOKEN` are read from here. */
  env: Readonly<Record<string, string | undefined>>;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/** Builds the event from `--type` and `--data`; throws {@link SendError} (exit 2) when unusable. */
export function buildEvent(type: string, data: string | undefined): LayerMessage {
  let fields: unknown;
  try {
    fields = JSON.parse(data ?? '{}');
  } catch (err) {
    throw new SendError(`--data is not valid JSON (${(err as Error).message}); pass an object, e.g. --data '{"message":"hi"}'`, 2);
  }
  if (fields === null || typeof fields !== 'object' || Array.isArray(fields)) {
    throw new SendError(`--data must be a JSON object like '{"message":"hi"}', got ${Array.isArray(fields) ? 'an array' : fields === null ? 'null' : typeof fields}`, 2);
  }
  const given = (fields as { type?: unknown }).type;
  if (given !== undefined && given !== type) {
    throw new SendError(`--data has "type": ${JSON.stringify(given)} but --type is ${JSON.stringify(type)}; give the type with --type only`, 2);
  }
  try {
    handlerNameFor(type);
  } catch (err) {
    throw new SendError(`--type: ${(err as Error).message}`, 2);
  }
  return { ...(fields as Record<string, unknown>), type };
}

/** The bearer token for the publish endpoint: `SWITCHBOARD_PUBLISH_TOKEN` (never a flag: `ps` shows flags). */
function tokenFor(env: SendIo['env']): string {
  const token = env['SWITCHBOARD_PUBLISH_TOKEN']?.trim();
  if (token) return token;
  throw new SendError('no token for the publish endpoint: set SWITCHBOARD_PUBLISH_TOKEN to the token the server\'s publish handler checks', 2);
}

/**
 * Sends one event and reports it through `io.out` (`sent to group chat_chat_room: reached 2
 * process(es)`).
 * @throws {@link SendError} with exit code 2 for bad arguments, 1 when the event could not be sent.
 */
export async function runSend(options: SendOptions, io: SendIo): Promise<void> {
  if ((options.group === undefined) === (options.channel === undefined)) {
    throw new SendError('give exactly one of --group <name> (every member of a group) and --channel <name> (one named channel, e.g. a worker\'s)', 2);
  }
  const event = buildEvent(options.type, options.data);
  try {
    if (options.group !== undefined) validateGroupName(options.group, 'send --group');
    else validateChannelName(options.channel, 'send --channel');
    validateMessage(event, DEFAULT_LAYER_OPTIONS.maxMessageBytes, 'send');
  } catch (err) {
    if (err instanceof SwitchboardError) throw new SendError(err.message, 2);
    throw err;
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const layerUrl = options.channelLayerUrl ?? io.env['CHANNEL_LAYER_URL'];
  if (layerUrl !== undefined && layerUrl.trim() !== '' && layerUrl.trim() !== 'memory://') {
    await sendThroughLayer(layerUrl.trim(), options, event, io);
    return;
  }
  if (options.group === undefined) {
    throw new SendError(
      `--channel needs CHANNEL_LAYER_URL=redis://…: without it the server's in-memory layer cannot be reached from another process, and the publish endpoint only sends to groups`,
      2,
    );
  }
  if (options.url === undefined) {
    throw new SendError('nowhere to send: set CHANNEL_LAYER_URL=redis://… (or --channel-layer-url) to publish through Redis, or pass --url <publish endpoint of the running server>', 2);
  }
  await sendThroughApi(options.group, event, options, io, timeoutMs);
}

async function sendThroughLayer(url: string, options: SendOptions, event: LayerMessage, io: SendIo): Promise<void> {
  let layer;
  try {
    layer = await getChannelLayer({ url, variable: options.channelLayerUrl !== undefined ? '--channel-layer-url' : 'CHANNEL_LAYER_URL' });
  } catch (err) {
    if (err instanceof ConfigError) throw new SendError(err.message, 1);
    throw err;
  }
  try {
    if (options.group !== undefined) {
      const { recipients } = await layer.groupSend(options.group, event);
      io.out(`sent to group ${options.group}: reached ${recipients} process(es)`);
    } else {
      await layer.send(options.channel!, event);
      io.out(`sent to channel ${options.channel}`);
    }
  } catch (err) {
    if (err instanceof SwitchboardError) throw new SendError(`${err.message} (${err.code})`, 1);
    throw err;
  } finally {
    await layer.close();
  }
}

interface PublishAnswer {
  recipients?: unknown;
  dropped?: unknown;
  crossProcess?: unknown;
  code?: unknown;
  message?: unknown;
}

async function sendThroughApi(group: string, event: LayerMessage, options: SendOptions, io: SendIo, timeoutMs: number): Promise<void> {
  let endpoint: URL;
  try {
    endpoint = new URL(options.url!);
  } catch {
    throw new SendError(`--url ${JSON.stringify(options.url)} is not a URL; use e.g. --url http://127.0.0.1:8000/api/publish`, 2);
  }
  const key = tokenFor(io.env);
  let response: Response;
  try {
    response = await fetch(endpoint, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ group, event }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    const why = (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (cause?.code ?? (err as Error).message);
    throw new SendError(
      `cannot reach the Switchboard server at ${endpoint.origin} (${why}); is it running? Check --url, or set CHANNEL_LAYER_URL=redis://… to publish through Redis`,
      1,
    );
  }
  const text = await response.text();
  let answer: PublishAnswer = {};
  try {
    answer = JSON.parse(text) as PublishAnswer;
  } catch {
    // Not our API (another program on that port?): report the status below.
  }
  if (!response.ok) {
    const detail = typeof answer.message === 'string' ? `${answer.message}${typeof answer.code === 'string' ? ` (${answer.code})` : ''}` : text.slice(0, 200);
    const usage = response.status === 400 || response.status === 413 || response.status === 415;
    throw new SendError(`the server at ${endpoint.origin} refused the event: HTTP ${response.status}: ${detail}`, usage ? 2 : 1);
  }
  if (typeof answer.recipients !== 'number') {
    throw new SendError(`unexpected answer from ${endpoint.href} (HTTP ${response.status}): ${text.slice(0, 200)}; is --url a Switchboard server?`, 1);
  }
  const dropped = typeof answer.dropped === 'number' && answer.dropped > 0 ? ` (${answer.dropped} dropped: channel full)` : '';
  // A Redis-backed server counts the processes its PUBLISH reached; an in-memory one, members.
  const unit = answer.crossProcess === true ? 'process(es)' : 'recipient(s)';
  io.out(`sent to group ${group}: reached ${answer.recipients} ${unit}${dropped}`);
}

function positiveInteger(name: string) {
  return (value: string): number => {
    if (!/^[0-9]+$/.test(value) || Number(value) <= 0) throw new InvalidArgumentError(`${name} must be a positive whole number of milliseconds.`);
    return Number(value);
  };
}

/** The `send` subcommand. */
export function createSendCommand(): Command {
  return new Command('send')
    .description('send an event to a group (or a named channel) from outside any connection')
    .addOption(new Option('-g, --group <name>', 'group to send to, e.g. chat_chat_room').conflicts('channel'))
    .addOption(new Option('-c, --channel <name>', 'named channel to send to (a worker\'s, e.g. chat-archive); needs CHANNEL_LAYER_URL'))
    .requiredOption('-t, --type <type>', 'event type, e.g. chat.message (selects the handler: chatMessage)')
    .option('-d, --data <json>', 'the event\'s other fields, a JSON object', '{}')
    .option('--url <url>', 'publish endpoint of a running server (createPublishHandler), used when CHANNEL_LAYER_URL is unset; token from $SWITCHBOARD_PUBLISH_TOKEN')
    .option('--channel-layer-url <url>', 'publish through this layer instead of the server (overrides $CHANNEL_LAYER_URL)')
    .option('--timeout-ms <ms>', 'how long to wait for the server', positiveInteger('--timeout-ms'), DEFAULT_TIMEOUT_MS)
    .addHelpText(
      'after',
      `
Examples:
  CHANNEL_LAYER_URL=redis://127.0.0.1:6379/0 switchboard send --group chat_lobby --type chat.message --data '{"message":"hi"}'
  SWITCHBOARD_PUBLISH_TOKEN=… switchboard send --url http://127.0.0.1:8000/api/publish --group chat_lobby --type chat.message
  CHANNEL_LAYER_URL=redis://127.0.0.1:6379/0 switchboard send --channel chat-archive \\
    --type chat.transcript --data '{"group":"chat_lobby"}'

Exit codes: 0 sent, 1 could not send, 2 bad arguments.`,
    )
    .action(async (options: SendOptions) => {
      try {
        await runSend(options, { env: process.env, out: (line) => process.stdout.write(`${line}\n`) });
      } catch (err) {
        if (!(err instanceof SendError)) throw err;
        process.stderr.write(`error: ${err.message}\n`);
        process.exitCode = err.exitCode;
      }
    });
}

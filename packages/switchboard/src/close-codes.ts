/**
 * WebSocket close codes used by Switchboard, shared by the server and the browser client.
 *
 * This module has no imports so that `client/` can bundle it as is. Every code here has a row
 * in `docs/close-codes.md`; `test/close-codes.test.ts` fails when the two disagree.
 *
 * Sources: RFC 6455 §7.4.1 (1000–1011), the IANA "WebSocket Close Code Number Registry"
 * (1012, 1013), and the 4000 + HTTP-status convention of graphql-ws (4400, 4401, ...).
 */
export const CloseCode = {
  /** `close()` without a code; the conversation is over. RFC 6455 §7.4.1. */
  NORMAL: 1000,
  /** Server shutdown or drain: reconnect (to another process). RFC 6455 §7.4.1. */
  GOING_AWAY: 1001,
  /** A frame that breaks RFC 6455 framing: reserved bits, unknown opcode, unmasked client frame, ... (sent by `ws`). RFC 6455 §7.4.1. */
  PROTOCOL_ERROR: 1002,
  /** A binary frame sent to a JSON consumer. RFC 6455 §7.4.1. */
  UNSUPPORTED_DATA: 1003,
  /** A text frame that is not valid UTF-8 (sent by `ws`). RFC 6455 §7.4.1. */
  INVALID_PAYLOAD: 1007,
  /** Origin refused, the session ended after accept, or a message in too many fragments (sent by `ws`). RFC 6455 §7.4.1. */
  POLICY_VIOLATION: 1008,
  /** A frame over `maxPayloadBytes` (sent by `ws`). RFC 6455 §7.4.1. */
  MESSAGE_TOO_BIG: 1009,
  /** A handler threw; the stack is in the server log. RFC 6455 §7.4.1. */
  INTERNAL_ERROR: 1011,
  /** The server is restarting, or its channel layer reconnected and a history consumer needs the client to recover (reconnect with `since`). IANA registry. */
  SERVICE_RESTART: 1012,
  /** Overloaded (e.g. this client stopped reading and its send queue overflowed). IANA registry. */
  TRY_AGAIN_LATER: 1013,
  /** Repeated malformed messages. 4000 + HTTP 400, as graphql-ws. */
  BAD_REQUEST: 4400,
  /** Not authenticated (or logged out). 4000 + HTTP 401. */
  UNAUTHORIZED: 4401,
  /** Authenticated but not allowed here (e.g. a members-only room). 4000 + HTTP 403. */
  FORBIDDEN: 4403,
  /** No pong within the heartbeat interval, or no authentication or join within the timeout. 4000 + HTTP 408. */
  TIMEOUT: 4408,
  /** Rate limited: frames over `receiveRateLimit`, or a ping flood. 4000 + HTTP 429. */
  RATE_LIMITED: 4429,
} as const;

/** One of the numeric values of {@link CloseCode}. */
export type CloseCodeValue = (typeof CloseCode)[keyof typeof CloseCode];

/** What a client should do after the server closed with a given code. */
export type ReconnectPolicy = 'no' | 'yes' | 'backoff' | 'later';

/** Meaning and reconnect policy of each code; the browser client decides on reconnects from it. */
export const CLOSE_CODE_TABLE: Readonly<
  Record<CloseCodeValue, { readonly name: keyof typeof CloseCode; readonly meaning: string; readonly reconnect: ReconnectPolicy }>
> = {
  1000: { name: 'NORMAL', meaning: 'closed without a specific reason', reconnect: 'no' },
  1001: { name: 'GOING_AWAY', meaning: 'server shutdown or drain', reconnect: 'yes' },
  1002: { name: 'PROTOCOL_ERROR', meaning: 'a frame breaks RFC 6455 framing', reconnect: 'no' },
  1003: { name: 'UNSUPPORTED_DATA', meaning: 'binary frame sent to a JSON consumer', reconnect: 'no' },
  1007: { name: 'INVALID_PAYLOAD', meaning: 'text frame is not valid UTF-8', reconnect: 'no' },
  1008: { name: 'POLICY_VIOLATION', meaning: 'origin refused, session ended after accept, or a message in too many fragments', reconnect: 'no' },
  1009: { name: 'MESSAGE_TOO_BIG', meaning: 'frame, or inflated compressed message, larger than maxPayloadBytes', reconnect: 'no' },
  1011: { name: 'INTERNAL_ERROR', meaning: 'a handler threw; see the server log', reconnect: 'backoff' },
  1012: { name: 'SERVICE_RESTART', meaning: 'server restarting, or the channel layer reconnected and missed events must be recovered', reconnect: 'backoff' },
  1013: { name: 'TRY_AGAIN_LATER', meaning: 'overloaded: send queue over its bound', reconnect: 'backoff' },
  4400: { name: 'BAD_REQUEST', meaning: 'repeated malformed messages', reconnect: 'no' },
  4401: { name: 'UNAUTHORIZED', meaning: 'not authenticated, or logged out', reconnect: 'no' },
  4403: { name: 'FORBIDDEN', meaning: 'not allowed in this group or room', reconnect: 'no' },
  4408: { name: 'TIMEOUT', meaning: 'no pong within the heartbeat interval, or no authentication or join within the timeout', reconnect: 'yes' },
  4429: { name: 'RATE_LIMITED', meaning: 'rate limit exceeded, or a ping flood', reconnect: 'later' },
};

/**
 * Whether a client should reconnect after a close with `code`.
 * Codes not in the table: 1006 (abnormal, no close frame) and other 1xxx reconnect with backoff;
 * unknown 4xxx codes do not (they are application decisions).
 */
export function reconnectPolicy(code: number): ReconnectPolicy {
  const row = (CLOSE_CODE_TABLE as Record<number, { reconnect: ReconnectPolicy } | undefined>)[code];
  if (row) return row.reconnect;
  if (code >= 4000) return 'no';
  return 'backoff';
}

/** Whether a server may send `code` in a close frame (RFC 6455 §7.4; ws `isValidStatusCode`): 1000–1014 but 1004–1006, or 3000–4999. */
export function isSendableCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}

/** The Switchboard browser client: reconnecting JSON WebSocket and the shared close-code table. */
export { SwitchboardSocket, type SwitchboardSocketOptions, type SocketState, type Events, type WebSocketLike, type WebSocketConstructor } from './socket.js';
export { backoffDelay, type BackoffOptions } from './backoff.js';
export { RequestError } from './requests.js';
export type { PresenceChange } from './presence.js';
export { REPLY_FRAME_TYPE, type RequestMap, type RequestSpec, type ReplyFrame } from '../wire/request.js';
export { PRESENCE_STATE_TYPE, PRESENCE_DIFF_TYPE, type PresenceMeta, type PresenceStateFrame, type PresenceDiffFrame } from '../wire/presence.js';
export { CloseCode, CLOSE_CODE_TABLE, reconnectPolicy } from '../close-codes.js';
export { formatSince, parseSince, HISTORY_FRAME_TYPE, SINCE_PARAM, type HistoryPosition, type HistoryFrame } from '../history/position.js';

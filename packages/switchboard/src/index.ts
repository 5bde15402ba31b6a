/**
 * Switchboard's public API. Everything a user (and the demo) imports comes from here or from a
 * subpath: `switchboard/client` (the browser SDK), `switchboard/testing`,
 * `switchboard/redis` (the Redis backend; needs `ioredis`), `switchboard/metrics` (needs `prom-client`),
 * `switchboard/close-codes`.
 */
export { CloseCode, CLOSE_CODE_TABLE, reconnectPolicy, type CloseCodeValue, type ReconnectPolicy } from './close-codes.js';
export * from './errors.js';
export { createScope, parseSubprotocols, type Scope, type ScopeInit, type ScopeUser, type ScopeSession, type RouteKwargs } from './scope.js';
export { PreparedMessage, type ConnectionHandle } from './connection.js';
export { closeOnSignals, type Closeable } from './cli/close-on-signals.js';
export { runCommandLine } from './cli/command-line.js';
export { createLogger, defaultLogger, silentLogger, LOG_LEVELS, type Logger, type LogFn, type CreateLoggerOptions } from './logging.js';

export { WebsocketConsumer, type ConsumerInit, type ConsumerClass, type ConsumerWithArgs, type ReceivedFrame } from './consumer/websocket.js';
export { JsonWebsocketConsumer, type ErrorFrame } from './consumer/json.js';
export type { EventMap, LayerEvent, AnyLayerEvent, EventHandlers, HandlerName, HistoryFields, RequestHandlers, RequestHandlerName } from './consumer/events.js';
export type { ConsumerFeature, FeatureContext } from './consumer/feature.js';
export { historyRecovery, HistoryRecoveryFeature, type HistoryRecoveryResult } from './consumer/features/history-recovery.js';
export { frameRateLimit, type FrameRateLimitOptions } from './consumer/features/frame-rate-limit.js';
export { requestHandlerNameFor, type RequestContext } from './consumer/request.js';
export { fromAjv, validateWith, type StandardSchemaV1, type StandardSchemaResult, type InferOutput, type AjvValidateFunction } from './consumer/schema.js';
export { REPLY_FRAME_TYPE, isRequestFrame, type RequestFrame, type ReplyFrame, type ReplyError, type RequestMap, type RequestSpec } from './wire/request.js';
export { handlerNameFor } from './consumer/handler-name.js';

export { ProtocolTypeRouter, type HttpHandler, type ProtocolTypeRoutes } from './routing/protocol-type-router.js';
export { URLRouter, path, rePath, type Route } from './routing/url-router.js';
export type { PathParams } from './routing/route-pattern.js';
export { asApplication, isConsumerClass, type WebsocketApplication, type WebsocketTarget, type ResolvedConsumer } from './routing/application.js';

export {
  type ChannelLayer,
  type ChannelLayerOptions,
  type ChannelLayerStats,
  type ChannelLayerCapabilities,
  type ChannelReceiver,
  type GroupSendResult,
  type LayerMessage,
  type LayerEventListener,
  type ReceiveOptions,
  type ResolvedLayerOptions,
  type ChannelCapacityOption,
  DEFAULT_LAYER_OPTIONS,
  channelCapacityFor,
  resolveLayerOptions,
  validateGroupName,
  validateChannelName,
  validateChannelPrefix,
  validateMessage,
  isProcessLocalChannel,
} from './layers/channel-layer.js';
export { InMemoryChannelLayer, type InMemoryChannelLayerOptions, type LayerLogger } from './layers/in-memory.js';
export { getChannelLayer, type GetChannelLayerOptions } from './layers/get-channel-layer.js';

export { SwitchboardServer, type ServerOptions, type ServerStats } from './transport/server.js';
export type { SharedCompressionOptions, SharedDeflate } from './transport/shared-deflate.js';
export { fastifySwitchboard, type FastifySwitchboardOptions, type FastifyInstanceLike } from './transport/fastify.js';
export { createPublishHandler, bearerAuthorization, type BearerAuthorizationOptions, type PublishHandlerOptions, type PublishAuthorization, type PublishRequest, type PublishResponse, type PublishErrorResponse } from './transport/publish-handler.js';
export { bearerChecker, bearerToken, type BearerVerdict } from './transport/bearer.js';

export { InMemoryPresenceStore } from './presence/in-memory.js';
export { presence, type PresenceOptions } from './presence/feature.js';
export { PRESENCE_STATE_TYPE, PRESENCE_DIFF_TYPE, type PresenceMeta, type PresenceStateFrame, type PresenceDiffFrame } from './wire/presence.js';
export { DEFAULT_PRESENCE_TTL_MS, type PresenceStore, type PresenceEntry, type PresenceChange, type PresenceStoreOptions } from './presence/presence-store.js';
export { InMemoryHistoryStore } from './history/in-memory.js';
export { DEFAULT_HISTORY_OPTIONS, resolveHistoryOptions, type HistoryStore, type HistoryStoreOptions, type ResolvedHistoryOptions, type HistoryEvent, type HistoryRecovery } from './history/history-store.js';
export { HISTORY_FRAME_TYPE, SINCE_PARAM, formatSince, parseSince, isHistoryPosition, type HistoryPosition, type HistoryFrame } from './history/position.js';
export { groupSendWithHistory, withPosition, type HistoryGroupSendResult, type GroupSendWithHistoryOptions } from './history/publish.js';
export { CookieMiddleware } from './middleware/cookies.js';
export { SessionMiddleware, InMemorySessionStore, serializeSessionCookie, DEFAULT_SESSION_COOKIE, DEFAULT_SESSION_TTL_MS, type SessionStore, type SessionData, type SessionMiddlewareOptions, type InMemorySessionStoreOptions, type SessionCookieOptions } from './middleware/session.js';
export { AuthMiddleware, AuthMiddlewareStack, AuthSignals, authSignals, ANONYMOUS_USER, SESSION_USER_ID_KEY, getUser, login, logout, type UserStore, type AuthMiddlewareOptions, type AuthMiddlewareStackOptions, type AuthSignalMap, type AuthSignalListener, type UserLoggedInEvent, type UserLoggedOutEvent, type HasSession, type LoginOptions, type LogoutOptions } from './middleware/auth.js';
export { OriginValidator, AllowedHostsOriginValidator, LOCAL_ALLOWED_HOSTS, parseOriginPatterns, isOriginAllowed, type OriginPattern } from './middleware/origin.js';
export { RateLimiter, type AnyRateLimiter, type RateLimiterOptions, type RateLimitResult } from './middleware/rate-limit.js';

export { ChannelConsumer, type ChannelConsumerInit, type ChannelConsumerClass } from './worker/consumer.js';
export { ChannelNameRouter } from './worker/channel-name-router.js';
export { runWorker, type RunWorkerOptions } from './worker/run-worker.js';
export type { AppDefinition, ServeExport } from './cli/load-app.js';

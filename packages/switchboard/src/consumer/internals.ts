/**
 * The hooks the lifecycle driver (transport, `WebsocketCommunicator`) calls on a consumer:
 * symbols, so they are not part of the public API and no event type can reach them.
 */
export const kStart = Symbol('switchboard.consumer.start');
export const kFrame = Symbol('switchboard.consumer.frame');
export const kClosed = Symbol('switchboard.consumer.closed');
export const kDone = Symbol('switchboard.consumer.done');
export const kLayerEvent = Symbol('switchboard.consumer.layerEvent');
/** The bindings of a consumer's child logger, asked for once, when it first logs (see layer-messaging.ts). */
export const kLoggerBindings = Symbol('switchboard.consumer.loggerBindings');

/** `switchboard/testing`: test helpers for consumers and channel layers. */
export { WebsocketCommunicator, CommunicatorTimeoutError, ConsumerFailedError, defaultTestChannelLayer, type CommunicatorOptions, type ConnectResult } from './communicator.js';
export {
  runChannelLayerConformance,
  CHANNEL_LAYER_CONFORMANCE_TESTS,
  type ChannelLayerConformanceOptions,
  type ChannelLayerFactory,
  type ChannelLayerFactoryWithOptions,
  type ChannelLayerPeerFactory,
} from './layer-conformance.js';
export { waitFor, type WaitForOptions } from './wait-for.js';
export {
  runHistoryStoreConformance,
  HISTORY_STORE_CONFORMANCE_TESTS,
  type HistoryStoreConformanceOptions,
  type HistoryStoreFactory,
} from './history-conformance.js';
export { startTestServer, type TestServer } from './test-server.js';

/**
 * The demo's WebSocket routes (Channels `routing.py`). Seed paths are kept so the seeds' own page
 * scripts work unchanged (DESIGN.md §5).
 */
import { CookieMiddleware, URLRouter, path } from 'switchboard';
import { ChatConsumer } from './consumers/chat.js';
import { systemRoutes, type SystemDeps } from './systems-routes.js';

/** Chat rooms: seed 001/000 rooms, and seed 002's single room at `ws/chat/`. */
export const websocketRoutes = [
  path('ws/chat/', ChatConsumer),
  path('ws/chat/<roomName>/', ChatConsumer),
];

/**
 * The WebSocket application: cookies parsed into `scope.cookies` (the chat reads its guest name
 * there), then routed by path. An unrouted path is refused with HTTP 404 before the upgrade.
 *
 * @param systems - stores for the word stream, IoT chart and dice rooms (`ws/any_url/`,
 *   `ws/words/`, `ws/two_url/`, `ws/iot/<sensor>/`, `ws/game/<room>/`, see systems-routes.ts);
 *   without them only the chat is routed.
 */
export function createWebsocketApplication(systems?: SystemDeps): CookieMiddleware {
  return new CookieMiddleware(new URLRouter(systems ? [...websocketRoutes, ...systemRoutes(systems)] : websocketRoutes));
}

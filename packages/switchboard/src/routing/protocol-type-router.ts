/**
 * `ProtocolTypeRouter`: one server for HTTP and WebSocket; the protocol picks the application
 * (Channels `ProtocolTypeRouter`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { asApplication, type WebsocketApplication, type WebsocketTarget } from './application.js';

/** A Node request listener: Fastify's `app.routing`, Express, or a plain function. */
export type HttpHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** The applications per protocol. Without `http`, HTTP requests get 404. */
export interface ProtocolTypeRoutes {
  http?: HttpHandler;
  websocket?: WebsocketTarget;
}

/** Routes by protocol type: `http` requests to `http`, `upgrade` requests to `websocket`. */
export class ProtocolTypeRouter {
  readonly http: HttpHandler | undefined;
  readonly websocket: WebsocketApplication | undefined;

  constructor(routes: ProtocolTypeRoutes) {
    this.http = routes.http;
    this.websocket = routes.websocket === undefined ? undefined : asApplication(routes.websocket);
  }
}

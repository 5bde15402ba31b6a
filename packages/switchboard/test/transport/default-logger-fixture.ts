/**
 * A child process for default-logger.test.ts: Switchboard with no logger configured, as a new
 * user writes it. `server` mode serves ws/echo/ (a `{boom: true}` frame makes the handler throw)
 * and sends its port over IPC; `communicator` mode drives the same consumer with a
 * WebsocketCommunicator and reports what `receiveJson()` rejected with.
 */
import { JsonWebsocketConsumer, ProtocolTypeRouter, SwitchboardServer, URLRouter, path } from 'switchboard';
import { WebsocketCommunicator } from 'switchboard/testing';

class EchoConsumer extends JsonWebsocketConsumer {
  override receiveJson(content: unknown): void {
    if ((content as { boom?: boolean }).boom) throw new Error('handler exploded on purpose');
    this.sendJson({ echo: content });
  }
}

const router = new URLRouter([path('ws/echo/', EchoConsumer)]);
const send = (message: unknown): void => void process.send!(message);

if (process.argv[2] === 'communicator') {
  const c = new WebsocketCommunicator(router, '/ws/echo/', { channelLayer: null });
  await c.connect();
  await c.sendJson({ boom: true });
  const rejected = await c.receiveJson().then(
    () => 'nothing',
    (err: Error) => `${err.name}: ${(err.cause as Error).message}`,
  );
  const { code } = await c.receiveClose();
  await c.disconnect();
  send({ rejected, code });
  process.disconnect();
} else {
  const server = new SwitchboardServer(new ProtocolTypeRouter({ websocket: router }), { port: 0 });
  const { port } = await server.listen();
  process.once('SIGTERM', () => {
    void server.close().then(() => process.exit(0));
  });
  send({ port });
}

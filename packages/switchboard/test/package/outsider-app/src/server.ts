/** The same app on a SwitchboardServer of its own, with no logger configured. */
import { InMemoryChannelLayer, SwitchboardServer } from 'switchboard';
import { application } from './app.js';

const server = new SwitchboardServer(application, { port: 0, channelLayer: new InMemoryChannelLayer() });
const { port } = await server.listen();
console.log(`listening on http://127.0.0.1:${port}/`);

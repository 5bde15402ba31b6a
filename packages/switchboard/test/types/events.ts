/**
 * Type tests for typed events (issue 9): compiled by `npm run build`, never run. Each
 * `@ts-expect-error` line must be an error; when the types stop catching it, the directive is
 * unused and the build fails.
 */
import { JsonWebsocketConsumer, WebsocketConsumer, type EventHandlers, type LayerEvent } from 'switchboard';

interface ChatEvents {
  'chat.message': { text: string; from: string };
  'user.joined': { username: string };
}

export class Chat extends JsonWebsocketConsumer<{ room: string }, ChatEvents> implements EventHandlers<ChatEvents> {
  readonly room = `chat_${this.scope.urlRoute.kwargs.room}`;

  async publish(): Promise<void> {
    await this.groupSend(this.room, { type: 'chat.message', text: 'hi', from: 'ada' });
    await this.groupSend(this.room, { type: 'user.joined', username: 'ada' });
    // @ts-expect-error: a wrong event type
    await this.groupSend(this.room, { type: 'chat.mesage', text: 'hi', from: 'ada' });
    // @ts-expect-error: a misspelt field
    await this.groupSend(this.room, { type: 'chat.message', txt: 'hi', from: 'ada' });
    // @ts-expect-error: a missing field
    await this.groupSend(this.room, { type: 'chat.message', text: 'hi' });
    // @ts-expect-error: a field of the wrong type
    await this.groupSend(this.room, { type: 'user.joined', username: 42 });
    // @ts-expect-error: the same checks for sendToChannel
    await this.sendToChannel('archive', { type: 'chat.mesage', text: 'hi', from: 'ada' });
    // @ts-expect-error: and for groupSendWithHistory
    await this.groupSendWithHistory(this.room, { type: 'chat.message', text: 'hi', from: 1 });
  }

  chatMessage(event: LayerEvent<ChatEvents, 'chat.message'>): void {
    this.sendJson({ text: event.text, from: event.from });
    // @ts-expect-error: a field the event does not have
    this.sendJson(event.username);
  }

  userJoined(event: LayerEvent<ChatEvents, 'user.joined'>): void {
    this.sendJson({ joined: event.username });
  }
}

// @ts-expect-error: a handler missing under `implements EventHandlers<E>` (userJoined)
export class MissingHandler extends JsonWebsocketConsumer<{ room: string }, ChatEvents> implements EventHandlers<ChatEvents> {
  chatMessage(_event: LayerEvent<ChatEvents, 'chat.message'>): void {}
}

// @ts-expect-error: a misspelt handler name (userJoind) leaves userJoined missing
export class MisspeltHandler extends JsonWebsocketConsumer<{ room: string }, ChatEvents> implements EventHandlers<ChatEvents> {
  chatMessage(_event: LayerEvent<ChatEvents, 'chat.message'>): void {}
  userJoind(_event: LayerEvent<ChatEvents, 'user.joined'>): void {}
}

export class WrongEventHandler extends WebsocketConsumer<{ room: string }, ChatEvents> implements EventHandlers<ChatEvents> {
  // @ts-expect-error: a handler taking another type's event
  chatMessage(_event: LayerEvent<ChatEvents, 'user.joined'>): void {}
  userJoined(_event: LayerEvent<ChatEvents, 'user.joined'>): void {}
}

/** Without a declared map (the default `EventMap`), any `{type, ...}` goes. */
export class Untyped extends JsonWebsocketConsumer {
  async publish(): Promise<void> {
    await this.groupSend('g', { type: 'anything.at-all', n: 1 });
    // @ts-expect-error: but an event still needs a type
    await this.groupSend('g', { n: 1 });
  }
}

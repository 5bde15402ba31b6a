/**
 * Type tests for init arguments (issue 9): `Consumer.with(args)` is checked against the class's
 * third type parameter, and `this.args` has that type. Compiled by `npm run build`, never run.
 */
import { JsonWebsocketConsumer, URLRouter, path, type EventMap } from 'switchboard';

interface GameStore {
  load(room: string): Promise<{ turn: number }>;
}

interface GameArgs {
  readonly store: GameStore;
  readonly boardSize?: number;
}

export class Game extends JsonWebsocketConsumer<{ room: string }, EventMap, GameArgs> {
  override async connect(): Promise<void> {
    const state = await this.args.store.load(this.scope.urlRoute.kwargs.room);
    this.accept();
    this.sendJson({ turn: state.turn, size: this.args.boardSize ?? 20 });
    // @ts-expect-error: args has no such field
    this.sendJson(this.args.stor);
  }
}

declare const store: GameStore;

export const routes = new URLRouter([
  path('ws/game/<room>/', Game.with({ store })),
  path('ws/big/<room>/', Game.with({ store, boardSize: 100 })),
  // @ts-expect-error: a required argument missing
  path('ws/none/<room>/', Game.with({})),
  // @ts-expect-error: an argument of the wrong type
  path('ws/wrong/<room>/', Game.with({ store, boardSize: 'big' })),
  // @ts-expect-error: an argument the class does not take
  path('ws/extra/<room>/', Game.with({ store, colour: 'red' })),
]);

// @ts-expect-error: a route pattern that does not capture the kwargs the consumer reads (room)
export const unrouted = new URLRouter([path('ws/game/', Game)]);

/**
 * Type tests for request/reply (issue 9): `implements RequestHandlers<R>` checks each `on<Type>`
 * handler's data and reply against the request map. Compiled by `npm run build`, never run.
 */
import { BadRequestError, JsonWebsocketConsumer, type RequestHandlers } from 'switchboard';

interface AuctionRequests {
  'bid.place': { data: { amount: number }; reply: { accepted: boolean; highest: number } };
  'lot.status': { data: null; reply: { highest: number; bids: number } };
}

export class Auction extends JsonWebsocketConsumer<{ lot: string }> implements RequestHandlers<AuctionRequests> {
  #highest = 0;
  #bids = 0;

  onBidPlace({ amount }: { amount: number }): { accepted: boolean; highest: number } {
    if (amount <= this.#highest) throw new BadRequestError(`bid more than ${this.#highest}`);
    this.#highest = amount;
    this.#bids++;
    return { accepted: true, highest: amount };
  }

  async onLotStatus(): Promise<{ highest: number; bids: number }> {
    return { highest: this.#highest, bids: this.#bids };
  }
}

// @ts-expect-error: a request handler missing (onLotStatus)
export class MissingRequestHandler extends JsonWebsocketConsumer implements RequestHandlers<AuctionRequests> {
  onBidPlace(): { accepted: boolean; highest: number } {
    return { accepted: true, highest: 1 };
  }
}

export class WrongData extends JsonWebsocketConsumer implements RequestHandlers<AuctionRequests> {
  // @ts-expect-error: request data of the wrong type
  onBidPlace(_data: { amount: string }): { accepted: boolean; highest: number } {
    return { accepted: true, highest: 1 };
  }
  onLotStatus(): { highest: number; bids: number } {
    return { highest: 0, bids: 0 };
  }
}

export class WrongReply extends JsonWebsocketConsumer implements RequestHandlers<AuctionRequests> {
  onBidPlace(): { accepted: boolean; highest: number } {
    return { accepted: true, highest: 1 };
  }
  // @ts-expect-error: a reply of the wrong shape
  async onLotStatus(): Promise<{ highest: number }> {
    return { highest: 0 };
  }
}

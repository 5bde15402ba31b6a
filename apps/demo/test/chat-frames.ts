/** What the demo chat sends (seed frames, with `epoch`/`offset` when published with history), parsed. */
import type { TestClient } from '@switchboard/test-support';

/** A chat frame or the `switchboard.history` control frame. */
export interface ChatFrame {
  type?: string;
  message?: string;
  username?: string;
  epoch?: string;
  offset?: number;
  recovered?: boolean;
  missed?: number;
}

/** Every frame `client` received, parsed. */
export const chatFrames = (client: TestClient): ChatFrame[] => client.messages.map((m) => JSON.parse(m) as ChatFrame);

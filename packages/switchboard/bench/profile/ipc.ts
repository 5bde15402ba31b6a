/** Parent side of the profile harnesses' IPC with bench/profile/receivers.ts. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Starts the receivers' process (natively, never under the parent's valgrind). */
export function startReceivers(): ChildProcess {
  return fork(fileURLToPath(new URL('./receivers.js', import.meta.url)), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

/** Sends `message` to `child` and waits for its `{ok: answer}`. */
export function ask(child: ChildProcess, message: object, answer: string): Promise<void> {
  return new Promise((resolve) => {
    const onMessage = (reply: { ok?: string }): void => {
      if (reply.ok !== answer) return;
      child.off('message', onMessage);
      resolve();
    };
    child.on('message', onMessage);
    child.send(message);
  });
}

/** Sends `message` without waiting. */
export function tell(child: ChildProcess, message: object): void {
  child.send(message);
}

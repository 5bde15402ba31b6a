/**
 * The benchmarks' side of the IPC protocol of bench/clients.ts (the load-generator child).
 */
import type { ChildProcess } from 'node:child_process';

/** Sends `msg` to the child and resolves with its reply `{ok}`; rejects on the child's `{error}`. */
export function ask(child: ChildProcess, msg: object, ok: string): Promise<{ ms?: number }> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: { ok?: string; error?: string; ms?: number }) => {
      if (m.error) {
        child.off('message', onMessage);
        reject(new Error(m.error));
      } else if (m.ok === ok) {
        child.off('message', onMessage);
        resolve(m);
      }
    };
    child.on('message', onMessage);
    child.send(msg);
  });
}

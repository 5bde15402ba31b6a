/**
 * `checkMessage` (src/layers/message-check.ts) skips the encode when a walk bounds the size: it
 * must accept and refuse exactly what `validateMessage` does, with the same error, for every
 * kind of message, at the size limit too.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateMessage } from '../../src/layers/channel-layer.js';
import { checkMessage } from '../../src/layers/message-check.js';

/** The outcome of `fn`: 'ok' or the error's class and message. */
function outcome(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (err) {
    return `${(err as Error).constructor.name}: ${(err as Error).message}`;
  }
}

const cyclic: Record<string, unknown> = { type: 'a.b' };
cyclic.self = cyclic;

const cases: Array<[string, unknown]> = [
  ['flat strings', { type: 'chat.message', message: 'hi', username: 'ann' }],
  ['nested payload', { type: 'chat.message', payload: { message: 'hi', n: 1, tags: ['a', 'b'], ok: true, none: null } }],
  ['escapes and astral characters', { type: 'x', text: '\u0000\u001f"\\😀é\ud800' }],
  ['undefined, function and symbol values', { type: 'x', a: undefined, b: () => 1, c: Symbol('s'), d: [undefined, () => 1] }],
  ['a BigInt', { type: 'x', n: 1n }],
  ['a nested BigInt', { type: 'x', deep: { n: [1n] } }],
  ['a cycle', cyclic],
  ['a Date', { type: 'x', at: new Date(0) }],
  ['a toJSON that throws', { type: 'x', v: { toJSON: () => { throw new Error('no'); } } }],
  ['a getter that throws', Object.defineProperty({ type: 'x' }, 'bad', { enumerable: true, get: () => { throw new Error('getter'); } })],
  ['no type', { message: 'hi' }],
  ['an empty type', { type: '' }],
  ['a reserved type', { type: '_private' }],
  ['a number type', { type: 5 }],
  ['an array', [{ type: 'x' }]],
  ['null', null],
  ['a string', 'chat.message'],
  ['a class instance', Object.assign(Object.create({ inherited: 1 }) as object, { type: 'x' })],
  ['a null-prototype object', Object.assign(Object.create(null) as object, { type: 'x', v: 'y' })],
];

describe('checkMessage agrees with validateMessage', () => {
  for (const [what, message] of cases) {
    it(what, () => {
      assert.equal(outcome(() => checkMessage(message, 1_048_576, 'groupSend')), outcome(() => validateMessage(message, 1_048_576, 'groupSend')));
    });
  }

  it('at and around the size limit, for one- and multi-byte text', () => {
    for (const unit of ['a', 'é', '😀', '\u0001']) {
      for (let length = 0; length < 120; length++) {
        const message = { type: 'x', text: unit.repeat(length) };
        const encoded = Buffer.byteLength(JSON.stringify(message));
        for (const limit of [encoded - 1, encoded, encoded + 1]) {
          assert.equal(outcome(() => checkMessage(message, limit, 'send')), outcome(() => validateMessage(message, limit, 'send')), `${unit} × ${length}, limit ${limit}`);
        }
      }
    }
  });
});

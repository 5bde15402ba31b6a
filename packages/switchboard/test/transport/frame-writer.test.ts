/**
 * The frame writer builds text frames itself (header and UTF-8 payload in one buffer): the bytes
 * must be exactly what `ws`'s own `Sender.frame` builds (RFC 6455 §5.2, unmasked), at every
 * length boundary of the 7-bit, 16-bit and 64-bit length forms.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as wsModule from 'ws';
import { PreparedMessage } from '../../src/connection.js';
import { preparedFrame, textFrame } from '../../src/transport/frame-writer.js';

const Sender = (wsModule as unknown as { Sender: { frame(data: Buffer, o: object): Buffer[] } }).Sender;
const wsFrame = (text: string): Buffer => Buffer.concat(Sender.frame(Buffer.from(text), { fin: true, rsv1: false, opcode: 1, mask: false, readOnly: false }));

describe('frame writer text frames', () => {
  for (const length of [0, 1, 125, 126, 127, 65_535, 65_536, 70_000]) {
    it(`frames ${length} bytes as ws does`, () => {
      const text = 'a'.repeat(length);
      assert.deepEqual(textFrame(text), wsFrame(text));
      const prepared = new PreparedMessage(text);
      assert.deepEqual(preparedFrame(prepared), wsFrame(text));
      assert.equal(prepared.byteLength, length);
    });
  }

  it('counts UTF-8 bytes, not UTF-16 units, across the 125/126 boundary', () => {
    for (const text of ['é'.repeat(62) + 'x', 'é'.repeat(63), '😀'.repeat(40), 'ü'.repeat(40_000)]) {
      assert.deepEqual(textFrame(text), wsFrame(text));
      const prepared = new PreparedMessage(text);
      preparedFrame(prepared);
      assert.equal(prepared.byteLength, Buffer.byteLength(text));
    }
  });
});

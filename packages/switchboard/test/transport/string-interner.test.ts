import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StringInterner } from '../../src/transport/string-interner.js';

describe('StringInterner', () => {
  it('gives back an equal string and holds each value once', () => {
    const strings = new StringInterner(8);
    const first = strings.intern(['Mozilla/5.0 ', '(X11; Linux x86_64)'].join(''));
    assert.equal(strings.intern('Mozilla/5.0 (X11; Linux x86_64)'), first);
    assert.equal(strings.intern('websocket'), 'websocket');
    assert.equal(strings.size, 2);
  });

  it('never holds more than its limit: full, it starts again from empty', () => {
    const strings = new StringInterner(4);
    for (let i = 0; i < 1000; i++) {
      assert.equal(strings.intern(`value-${i}`), `value-${i}`);
      assert.ok(strings.size <= 4, `size ${strings.size} after ${i + 1} values`);
    }
    assert.equal(strings.size, 4);
  });
});

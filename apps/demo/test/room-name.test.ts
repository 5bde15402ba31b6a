/** Room names (Unicode, as the seeds' `\w`) and their reversible group encoding. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateGroupName } from 'switchboard';
import { isMembersOnlyRoom } from '../consumers/chat.js';
import { ROOM_NAME_MAX_UTF8_BYTES, isValidRoomName, normalizeRoomName, roomFromGroup, roomGroup, roomNameProblem } from '../consumers/room-name.js';

describe('room names', () => {
  it('accepts letters of any script, digits, _ and -, as the seeds\' Unicode \\w', () => {
    for (const name of ['lobby', 'chat_room', 'a-b', '房间1', 'café', 'Straße', 'комната', 'غرفة', 'x'.repeat(64), '房'.repeat(23), '١٢٣']) {
      assert.equal(roomNameProblem(name), null, name);
      assert.equal(isValidRoomName(name), true, name);
    }
    for (const name of ['', 'a b', 'a.b', 'a/b', '<b>', '😀', 'x'.repeat(65), '房'.repeat(24)]) {
      assert.equal(isValidRoomName(name), false, name);
      assert.equal(typeof roomNameProblem(name), 'string', name);
    }
    assert.match(roomNameProblem('房'.repeat(24))!, new RegExp(`${ROOM_NAME_MAX_UTF8_BYTES}`));
  });

  it('keeps ASCII groups as the seeds name them and encodes others reversibly within the group alphabet', () => {
    assert.equal(roomGroup('chat_', 'lobby'), 'chat_lobby');
    assert.equal(roomGroup('game_', 'chat_room'), 'game_chat_room');
    assert.equal(roomGroup('chat_', '房间1'), 'chat_.5oi_6Ze0MQ');
    const names = ['房间1', 'café', 'Straße', 'ё-ж_1', '房'.repeat(23), 'é'.repeat(34), 'lobby', 'x'.repeat(64)];
    for (const name of names) {
      for (const prefix of ['chat_', 'game_'] as const) {
        const group = roomGroup(prefix, name);
        assert.doesNotThrow(() => validateGroupName(group, 'test'), group);
        assert.match(group, /^[A-Za-z0-9._-]{1,99}$/);
        assert.equal(roomFromGroup(prefix, group), name);
      }
    }
    // Distinct names, distinct groups.
    assert.equal(new Set(names.map((n) => roomGroup('chat_', n))).size, names.length);
    // A group of no room maps to none (a second spelling of 'lobby', junk, the other system's prefix).
    for (const group of [`chat_.${Buffer.from('lobby').toString('base64url')}`, 'chat_.!!', 'chat_a.b', 'game_lobby']) assert.equal(roomFromGroup('chat_', group), null, group);
    assert.throws(() => roomGroup('chat_', 'a b'), RangeError);
  });

  it('normalises to NFC, so a decomposed name is the same room', () => {
    assert.equal(normalizeRoomName('cafe\u0301'), 'café');
    assert.equal(isValidRoomName('cafe\u0301'), false, 'only the normalised form is a room key');
    assert.equal(roomGroup('chat_', normalizeRoomName('cafe\u0301')!), roomGroup('chat_', 'café'));
  });

  it('treats members-only rooms without regard to case or full-width forms', () => {
    for (const name of ['members-x', 'Members-x', 'MEMBERS-team', 'ｍｅｍｂｅｒｓ-x']) assert.equal(isMembersOnlyRoom(name), true, name);
    for (const name of ['member-x', 'lobby', 'x-members-']) assert.equal(isMembersOnlyRoom(name), false, name);
  });
});

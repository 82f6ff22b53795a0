// The dashboard's list patching (functions/admin-dashboard/assets/list-patch.js): a list hint's
// rows move the loaded list as a fresh read would show it. No browser, no stack.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { patchList } from '../../functions/admin-dashboard/assets/list-patch.js';

const ME = 'adm_me000000000000000000000';
const OTHER = 'adm_other0000000000000000000';
const at = (minute) => `2026-12-08T10:${String(minute).padStart(2, '0')}:00.000Z`;

// A chat started at minute `start`; `waiting` the minute its wait began; `holder` who holds it.
function row(id, start, { waiting = null, holder = null, status = 'active' } = {}) {
  return {
    sessionId: id, userInfo: { name: id }, startTime: at(start), status, lastMessage: null, messageCount: 1,
    waitingSince: waiting === null ? null : at(waiting), assignedTo: holder && { adminId: holder, name: holder },
  };
}

function loaded(recent, { waiting = [], cursor = null, total = recent.length } = {}) {
  return { waiting, waitingCapped: false, recent, recentWanted: 50, recentCursor: cursor, totalActive: total };
}

const seenOf = (list) => ({
  knownIds: new Set([...list.waiting, ...list.recent].map((r) => r.sessionId)),
  endedIds: new Set(),
  newestStart: Math.max(...list.recent.map((r) => Date.parse(r.startTime))),
});
const ids = (rows) => rows.map((r) => r.sessionId);
const ALL = { filter: 'all', adminId: ME, waitingCap: 198 };

test('a new chat goes first in the list and into the waiting customers by its wait, and is counted once', () => {
  const list = loaded([row('b', 5), row('a', 1)], { waiting: [row('a', 1, { waiting: 2 })] });
  const seen = seenOf(list);
  const fresh = row('c', 9, { waiting: 9 });
  assert.deepEqual(patchList(list, [fresh], ALL, seen), ['c']);
  assert.deepEqual(ids(list.recent), ['c', 'b', 'a']);
  assert.deepEqual(ids(list.waiting), ['a', 'c'], 'longest wait first');
  assert.equal(list.totalActive, 3);
  // The same row again (another hint, a safety read's twin) changes nothing more.
  assert.deepEqual(patchList(list, [fresh], ALL, seen), []);
  assert.equal(list.totalActive, 3);
  assert.deepEqual(ids(list.recent), ['c', 'b', 'a']);
});

test('an answered customer leaves the waiting list; an ended chat leaves every list and the count, once', () => {
  const list = loaded([row('b', 5, { waiting: 6 }), row('a', 1, { waiting: 2 })], { waiting: [row('a', 1, { waiting: 2 }), row('b', 5, { waiting: 6 })] });
  const seen = seenOf(list);
  patchList(list, [row('a', 1)], ALL, seen);
  assert.deepEqual(ids(list.waiting), ['b']);
  assert.deepEqual(ids(list.recent), ['b', 'a']);
  patchList(list, [row('b', 5, { status: 'ended' })], ALL, seen);
  patchList(list, [row('b', 5, { status: 'ended' })], ALL, seen);
  assert.deepEqual(ids(list.waiting), []);
  assert.deepEqual(ids(list.recent), ['a']);
  assert.equal(list.totalActive, 1);
});

test('filters: Mine keeps only what this agent holds, Unassigned only what nobody holds', () => {
  const mine = loaded([row('a', 1, { holder: ME })]);
  const seenMine = seenOf(mine);
  patchList(mine, [row('b', 7), row('a', 1, { holder: OTHER })], { ...ALL, filter: 'mine' }, seenMine);
  assert.deepEqual(ids(mine.recent), [], 'transferred away, and a new unassigned chat not mine');
  assert.equal(mine.totalActive, 1, 'a filtered view leaves the count to the next read');
  patchList(mine, [row('b', 7, { holder: ME })], { ...ALL, filter: 'mine' }, seenMine);
  assert.deepEqual(ids(mine.recent), ['b']);

  const free = loaded([row('a', 1)]);
  patchList(free, [row('a', 1, { holder: ME }), row('c', 8, { waiting: 8 })], { ...ALL, filter: 'unassigned' }, seenOf(free));
  assert.deepEqual(ids(free.recent), ['c']);
  assert.deepEqual(ids(free.waiting), [], 'the waiting list is the All view');
});

test('a row older than the last loaded chat stays on the page not loaded yet, unless the list is complete', () => {
  const paged = loaded([row('d', 9), row('c', 8)], { cursor: 'next', total: 4 });
  patchList(paged, [row('a', 1)], ALL, seenOf(paged));
  assert.deepEqual(ids(paged.recent), ['d', 'c'], '"Load more" brings it');
  const complete = loaded([row('d', 9), row('c', 8)], { total: 3 });
  patchList(complete, [row('a', 1)], ALL, seenOf(complete));
  assert.deepEqual(ids(complete.recent), ['d', 'c', 'a']);
});

test('a changed row keeps its place in the newest-first order and is not duplicated', () => {
  const list = loaded([row('c', 9), row('b', 5), row('a', 1)], { cursor: 'next', total: 9 });
  const changed = { ...row('b', 5), messageCount: 4 };
  patchList(list, [changed], ALL, seenOf(list));
  assert.deepEqual(ids(list.recent), ['c', 'b', 'a']);
  assert.equal(list.recent[1].messageCount, 4);
});

test('more waiting customers than the cap: the longest waits stay, later waits are left to a read', () => {
  const waiting = [row('a', 1, { waiting: 1 }), row('b', 2, { waiting: 2 })];
  const list = loaded([row('b', 2), row('a', 1)], { waiting });
  const cap = { ...ALL, waitingCap: 2 };
  patchList(list, [row('c', 3, { waiting: 3 })], cap, seenOf(list));
  assert.deepEqual(ids(list.waiting), ['a', 'b']);
  assert.equal(list.waitingCapped, true);
  patchList(list, [row('d', 4, { waiting: 4 })], cap, seenOf(list));
  assert.deepEqual(ids(list.waiting), ['a', 'b'], 'past the cap: not inserted');
  patchList(list, [row('a', 1)], cap, seenOf(list));
  assert.deepEqual(ids(list.waiting), ['b']);
});

test('an ended chat that a read already left out lowers the count no more', () => {
  const list = loaded([row('b', 5), row('a', 1)], { total: 2 });
  const seen = seenOf(list);
  patchList(list, [row('x', 3, { status: 'ended' })], ALL, seen);
  assert.equal(list.totalActive, 2);
  patchList(list, [row('a', 1, { status: 'ended' })], ALL, seen);
  assert.equal(list.totalActive, 1);
});

// A list hint (`lists.changed`, docs/asyncapi.yaml) applied to the loaded list, so that the list
// moves without a read. Pure: no page, no requests (tests/browser/list-patch.test.mjs).

// Whether a row belongs in the list the agent chose ('all', 'mine' or 'unassigned').
export function inFilter(row, filter, adminId) {
  if (row.status !== 'active') return false;
  if (filter === 'mine') return row.assignedTo?.adminId === adminId;
  if (filter === 'unassigned') return !row.assignedTo;
  return true;
}

const longestWaitFirst = (a, b) => Date.parse(a.waitingSince) - Date.parse(b.waitingSince);
const newestFirst = (a, b) => Date.parse(b.startTime) - Date.parse(a.startTime);

function insertSorted(rows, row, order) {
  const at = rows.findIndex((other) => order(row, other) < 0);
  if (at < 0) rows.push(row);
  else rows.splice(at, 0, row);
}

// Patches `list` (store.js `emptyList()`) with a hint's `rows`. `seen` is what earlier loads and
// hints saw: { knownIds, endedIds, newestStart } (changed here too). Returns the ids of chats
// that are new (started after everything seen so far), as a refresh reports them.
//
// The list holds every waiting customer (up to `waitingCap`, longest wait first) and the newest
// chats down to the last one loaded: a row older than that belongs to a page not loaded yet and
// is left to "Load more". In the All view the active count moves with each chat that starts, or
// that ends while listed, once; a filtered view sees too little to tell, and leaves the count to
// the next read.
export function patchList(list, rows, { filter, adminId, waitingCap }, seen) {
  const arrived = [];
  for (const row of rows) {
    const id = row.sessionId;
    const oldestLoaded = list.recent.at(-1);
    const wasListed = list.recent.some((s) => s.sessionId === id);
    const wasShown = wasListed || list.waiting.some((s) => s.sessionId === id);
    list.waiting = list.waiting.filter((s) => s.sessionId !== id);
    list.recent = list.recent.filter((s) => s.sessionId !== id);
    if (filter === 'all' && row.status === 'active') {
      const started = Date.parse(row.startTime);
      if (!seen.knownIds.has(id) && seen.newestStart !== null && started > seen.newestStart) {
        arrived.push(id);
        list.totalActive += 1;
      }
      seen.knownIds.add(id);
      if (seen.newestStart !== null) seen.newestStart = Math.max(seen.newestStart, started);
    } else if (filter === 'all' && wasShown && !seen.endedIds.has(id)) {
      seen.endedIds.add(id);
      list.totalActive = Math.max(0, list.totalActive - 1);
    }
    if (!inFilter(row, filter, adminId)) continue;
    const lastWaiting = list.waiting.at(-1);
    if (filter === 'all' && row.waitingSince
        && !(list.waitingCapped && lastWaiting && longestWaitFirst(row, lastWaiting) > 0)) {
      insertSorted(list.waiting, row, longestWaitFirst);
    }
    if (wasListed || !list.recentCursor || !oldestLoaded || newestFirst(row, oldestLoaded) <= 0) {
      insertSorted(list.recent, row, newestFirst);
    }
  }
  if (list.waiting.length > waitingCap) {
    list.waiting.length = waitingCap;
    list.waitingCapped = true;
  }
  return arrived;
}

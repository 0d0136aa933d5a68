// The ledger the chaos and cluster tests hold the lake to: record by record, and by business key when a
// producer restart replays its source (a later record of the same key supersedes the earlier one).
import test from 'ava';
import { ackedFromLog, compareLedger, type OffsetMap, SUPERSEDED } from '../helpers/ledger.js';

const lake = (rows: Array<[number, number]>) => ({ partitions: rows.map((r) => r[0]), offsets: rows.map((r) => r[1]) });

test('every good record once in the lake: nothing missing, lost or doubled', (t) => {
  const topic: OffsetMap = new Map([[0, Uint8Array.from([1, 1, 2, 1])]]);
  const l = compareLedger(topic, lake([[0, 0], [0, 1], [0, 3]]), [{ partition: 0, baseOffset: 0, count: 4 }]);
  t.like(l, { good: 3, missing: [], duplicates: [], notInTopic: [], superseded: 0, stale: [], ackedRecords: 4 });
  // the bad record (2) is acknowledged but belongs to the DLQ, not the lake: the ledger names it lost
  t.deepEqual(l.ackedLost, ['0:2']);
});

test('a record missing, one doubled, one that is no record: each named', (t) => {
  const topic: OffsetMap = new Map([[0, Uint8Array.from([1, 1, 1])]]);
  const l = compareLedger(topic, lake([[0, 0], [0, 0], [0, 7]]), [{ partition: 0, baseOffset: 0, count: 3 }]);
  t.deepEqual(l.missing, ['0:1', '0:2']);
  t.deepEqual(l.duplicates, ['0:0×2']);
  t.deepEqual(l.notInTopic, ['0:7']);
  t.deepEqual(l.ackedLost, ['0:1', '0:2']);
});

test('a superseded record is expected absent: not lost when the later one is in the lake, stale when it is kept', (t) => {
  // offsets 0 and 1 were sent again as 2 and 3 (a producer restart replayed them)
  const topic: OffsetMap = new Map([[0, Uint8Array.from([SUPERSEDED, SUPERSEDED, 1, 1])]]);
  const acked = [{ partition: 0, baseOffset: 0, count: 4 }];
  const right = compareLedger(topic, lake([[0, 2], [0, 3]]), acked);
  t.like(right, { good: 2, superseded: 2, missing: [], ackedLost: [], stale: [], notInTopic: [] });
  const wrong = compareLedger(topic, lake([[0, 0], [0, 3]]), acked);
  t.deepEqual(wrong.stale, ['0:0'], 'the older version of a key kept in the lake');
  t.deepEqual(wrong.missing, ['0:2']);
  t.deepEqual(wrong.ackedLost, ['0:2']);
});

test('acked lines from a producer log: JSON lines with message "acked"; others and cut lines skipped', (t) => {
  const log = ['{"message":"acked","partition":2,"baseOffset":"40","count":5}', '{"message":"progress"}', '{"message":"acked","partition":1', 'not json "acked"'].join('\n');
  t.deepEqual(ackedFromLog(log), [{ partition: 2, baseOffset: 40, count: 5 }]);
});

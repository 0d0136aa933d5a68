// The shipped copy of the dataset is the documented file, byte for byte (see data/README.md).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import test from 'ava';
import { resolveFromRoot } from '../lib/paths.js';

test('data/indexProcessed.csv.gz holds the documented indexProcessed.csv', (t) => {
  const csv = gunzipSync(readFileSync(resolveFromRoot('daemons/producer/data/indexProcessed.csv.gz')));
  t.is(csv.length, 10_003_006);
  t.is(createHash('sha256').update(csv).digest('hex'), '7195bcd49fe44d554d8b11e653f689b6be7d319c9d51c4955cf01efd5368edbf');
  t.is(csv.toString('latin1').split('\n').filter(Boolean).length, 104_225, 'a header and 104,224 rows');
});

import test from 'ava';
import { describePhases } from './etl.js';

test('a run’s steps are named in the order they run, in seconds; a step not taken is left out', (t) => {
  t.is(describePhases({ lake: 3210, fetch: 250, type: 2049, read: 1100 }), '; fetch 0.3 s, read 1.1 s, type 2.0 s, lake 3.2 s');
  t.is(describePhases({ fetch: 10, read: 20, type: 30, dlq: 40, lake: 50 }), '; fetch 0.0 s, read 0.0 s, type 0.0 s, dlq 0.0 s, lake 0.1 s');
  t.is(describePhases({}), '');
});

import test from 'ava';
import { type AlarmDefinition, decide } from './alarms.js';

const down: AlarmDefinition = {
  name: 'consumer-down',
  description: '',
  metric: 'Heartbeat',
  dimensions: { Daemon: 'consumer' },
  statistic: 'SampleCount',
  comparison: 'LessThanThreshold',
  threshold: 1,
  evaluationPeriods: 3,
  treatMissingData: 'breaching',
};

test('missing data is breaching, or not, as the definition says; N of N periods must breach', (t) => {
  t.is(decide(down, [null, null, null]).state, 'ALARM');
  t.is(decide(down, [null, 1, null]).state, 'OK');
  t.is(decide({ ...down, treatMissingData: 'notBreaching' }, [null, null, null]).state, 'OK');
  t.is(decide({ ...down, treatMissingData: 'missing' }, [null, null, null]).state, 'INSUFFICIENT_DATA');
  t.is(decide({ ...down, treatMissingData: 'ignore' }, [null, null, null]).state, undefined);
  t.is(decide({ ...down, treatMissingData: 'missing' }, [null, 0, null]).state, 'ALARM');
});

test('a new alarm is not put in ALARM by missing data from before it existed (the daemon was not started yet)', (t) => {
  const fresh = decide(down, [null, null, null], 3);
  t.is(fresh.state, 'INSUFFICIENT_DATA');
  t.regex(fresh.reason, /missing data in 3 periods before the alarm existed not judged$/);
  t.is(decide(down, [null, null, 1], 2).state, 'OK');
  // a period of its own with nothing in it breaches as before: a daemon that never starts still alarms
  t.is(decide(down, [null, null, null], 2).state, 'ALARM');
  t.regex(decide(down, [null, null, null], 2).reason, /^breached in 1 of 3 periods/);
  // values from before it existed are judged as usual
  t.is(decide(down, [0, null, null], 3).state, 'ALARM');
  t.is(decide(down, [null, null, null], 9).state, 'INSUFFICIENT_DATA');
  // missing data that is not breaching stays OK: nothing to wait for
  t.is(decide({ ...down, treatMissingData: 'notBreaching' }, [null, null, null], 3).state, 'OK');
});

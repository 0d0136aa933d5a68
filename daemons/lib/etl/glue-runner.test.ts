// How a finished Glue job run is described: the failure line and the DPU-seconds.
import test from 'ava';
import { dpuSeconds, failureLine, TERMINAL } from './glue-runner.js';

test('a failed run is one line with its state, time and Glue’s message', (t) => {
  const line = failureLine('kafkalake-etl', { Id: 'jr_1', JobRunState: 'FAILED', ExecutionTime: 42, ErrorMessage: 'AnalysisException: Path does not exist:\n s3://b/staging' });
  t.is(line, 'Glue job kafkalake-etl run jr_1 ended FAILED after 42 s: AnalysisException: Path does not exist: s3://b/staging');
  t.is(failureLine('j', { Id: 'jr_2', JobRunState: 'TIMEOUT' }), 'Glue job j run jr_2 ended TIMEOUT after ? s');
});

test('DPU-seconds: Glue’s own figure, else capacity × execution time, else unknown', (t) => {
  t.is(dpuSeconds({ DPUSeconds: 12.5, ExecutionTime: 100, MaxCapacity: 2 }), 12.5);
  t.is(dpuSeconds({ ExecutionTime: 100, MaxCapacity: 2 }), 200);
  t.is(dpuSeconds({ ExecutionTime: 100, WorkerType: 'G.2X', NumberOfWorkers: 3 }), 600);
  t.is(dpuSeconds({ ExecutionTime: 100 }), null);
});

test('the terminal states', (t) => {
  for (const s of ['SUCCEEDED', 'FAILED', 'ERROR', 'TIMEOUT', 'STOPPED', 'EXPIRED']) t.true(TERMINAL.has(s));
  for (const s of ['STARTING', 'RUNNING', 'STOPPING', 'WAITING']) t.false(TERMINAL.has(s));
});

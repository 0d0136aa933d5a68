import test from 'ava';
import { clusterHealthOf, type TopicPartitions } from '../lib/cluster-health.js';
import { problemsOf, type StatusReport } from './status-report.js';
import { renderCluster, renderStatus } from './status.js';

const part = (partitionId: number, leader: number, replicas: number[], isr: number[]) => ({ partitionId, leader, replicas, isr });
const topics = (isr: number[]): TopicPartitions[] => [{ name: 'trades', partitions: [0, 1, 2].map((i) => part(i, 1, [1, 2, 3], i === 0 ? isr : [1, 2, 3])) }];

function report(cluster: StatusReport['cluster']): StatusReport {
  const r: StatusReport = {
    at: '2026-12-05T20:00:00.000Z',
    mode: 'aws',
    bucket: 'b',
    topic: 'trades',
    healthy: false,
    problems: [],
    daemons: { ok: true, value: [] },
    cluster,
    rates: { ok: true, value: { windowS: 300, recordsInPerS: 1, recordsStagedPerS: 1, dlqRecords: 0 } },
    lag: { ok: true, value: { total: 0, partitions: [] } },
    freshness: { ok: true, value: { newestStaged: null, stagedAgeS: null, lakeUpdated: null, lakeAgeS: null } },
    jobs: { ok: true, value: [] },
    dlq: { ok: true, value: { objects: 0, truncated: false, consumer: 0, etl: 0 } },
    alarms: { ok: true, value: { evaluatedHere: false, defined: 12, inAlarm: [] } },
  };
  r.problems = problemsOf(r);
  r.healthy = r.problems.length === 0;
  return r;
}

test('a healthy cluster is one line, and the report stays healthy', (t) => {
  const r = report({ ok: true, value: clusterHealthOf({ brokers: [1, 2, 3], controller: 2, topics: topics([1, 2, 3]) }, 3, 'trades') });
  t.true(r.healthy);
  t.deepEqual(renderCluster(r.cluster.ok ? r.cluster.value : (undefined as never)), ['3/3 brokers up, controller 2; 0 under-replicated, 0 offline partitions']);
  t.regex(renderStatus(r), /^CLUSTER {4}3\/3 brokers up, controller 2; 0 under-replicated, 0 offline partitions$/m);
  t.regex(renderStatus(r), /^HEALTHY /m);
});

test('a missing broker and an under-replicated partition make the report unhealthy, saying which', (t) => {
  const r = report({ ok: true, value: clusterHealthOf({ brokers: [1, 2], controller: 1, topics: topics([1, 2]) }, 3, 'trades') });
  t.false(r.healthy);
  t.deepEqual(r.problems, ['1 of 3 Kafka brokers missing (alive: 1, 2)', '1 Kafka partition under-replicated (trades/0)']);
  const text = renderStatus(r);
  t.regex(text, /^CLUSTER {4}2\/3 brokers up \(alive: 1, 2\), controller 1; 1 under-replicated, 0 offline partitions\n {11}under-replicated: trades\/0$/m);
  t.regex(text, /^UNHEALTHY {2}1 of 3 Kafka brokers missing \(alive: 1, 2\); 1 Kafka partition under-replicated \(trades\/0\)$/m);
});

test('brokers unknown (a partition without a leader): the line says so and why', (t) => {
  const h = clusterHealthOf({ brokers: null, controller: null, topics: [] }, 3, 'trades', 'a partition has no leader (LEADER_NOT_AVAILABLE): only trades and __consumer_offsets looked at');
  h.offline.push('trades/?');
  t.deepEqual(renderCluster(h), [
    'brokers unknown of 3 expected; 0 under-replicated, 1 offline partition',
    'offline: trades/?',
    '(a partition has no leader (LEADER_NOT_AVAILABLE): only trades and __consumer_offsets looked at)',
  ]);
});

test('Kafka unreachable: the section is unavailable and the report unhealthy', (t) => {
  const r = report({ ok: false, error: 'measuring the cluster failed: connect ECONNREFUSED 127.0.0.1:1' });
  t.false(r.healthy);
  t.deepEqual(r.problems, ['cluster: measuring the cluster failed: connect ECONNREFUSED 127.0.0.1:1']);
  t.regex(renderStatus(r), /^CLUSTER {4}unavailable: measuring the cluster failed/m);
});

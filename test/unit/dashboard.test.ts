// The dashboard has one definition (daemons/lib/dashboard.ts): bootstrap renders it with the config's values,
// the aws_resources role renders templates/dashboard.json.j2, which is generated from it. Every widget charts a
// metric with the daemon and dimensions the code publishes it with (daemons/lib/metrics.ts), so none stays empty.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { RUN_JOBS } from '../../daemons/jobs/table.js';
import { chartedMetrics, dashboardBody, dashboardJobs, dashboardTemplate, LAKE_JOBS, TEMPLATE_VARIABLES } from '../../daemons/lib/dashboard.js';
import { isPublished } from '../../daemons/lib/metrics.js';
import { PROJECT_ROOT } from '../../daemons/lib/paths.js';

const TEMPLATE = path.join(PROJECT_ROOT, 'ansible/roles/aws_resources/templates/dashboard.json.j2');
const PYTHON = path.join(PROJECT_ROOT, '.kafkalake/venv/bin/python');
// Ansible's to_json is json.dumps; int and sort are Jinja's own
const RENDER = `
import json, sys, jinja2
env = jinja2.Environment(undefined=jinja2.StrictUndefined)
env.filters["to_json"] = json.dumps
print(env.from_string(open(sys.argv[1]).read()).render(**json.loads(sys.argv[2])))
`;
const settings = {
  namespace: 'KafkaLake',
  region: 'eu-west-1',
  topic: 'trades "eu"',
  periodSeconds: 60,
  alarmArns: ['arn:aws:cloudwatch:eu-west-1:123456789012:alarm:kafkalake-etl-failed', 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:kafkalake-consumer-lag-high'],
  jobs: dashboardJobs(['daily_ohlc', 'yearly_ohlc']),
  tables: ['stock_market_data', 'trades'],
};
const renderAnsible = () => {
  const V = TEMPLATE_VARIABLES;
  const vars = { [V.namespace]: settings.namespace, [V.region]: settings.region, [V.topic]: settings.topic, [V.period]: String(settings.periodSeconds), [V.alarms]: settings.alarmArns, [V.jobs]: settings.jobs, [V.tables]: settings.tables };
  return execFileSync(PYTHON, ['-c', RENDER, TEMPLATE, JSON.stringify(vars)], { encoding: 'utf8' });
};

test('a JobDuration line for every job the scheduler runs, in bootstrap and in the role', (t) => {
  // every row of the job table but report, which runs as one job per saved report
  t.deepEqual([...LAKE_JOBS].sort(), RUN_JOBS.map((j) => j.name).filter((n) => n !== 'report').sort());
  t.deepEqual(dashboardJobs(['daily_ohlc']), ['etl', 'compact', 'crawl', 'report-daily_ohlc']);
  const yml = readFileSync(path.join(PROJECT_ROOT, 'ansible/roles/aws_resources/tasks/cloudwatch.yml'), 'utf8');
  const fixed = /__aws_resources_dashboard_jobs: >-\s*\{\{ (\[[^\]]*\])/.exec(yml)?.[1];
  t.is(fixed, JSON.stringify(LAKE_JOBS).replaceAll('"', "'").replaceAll(',', ', '), 'tasks/cloudwatch.yml lists the lake’s jobs as LAKE_JOBS');
});

test('the role’s dashboard.json.j2 is the one generated from daemons/lib/dashboard.ts', (t) => {
  t.is(readFileSync(TEMPLATE, 'utf8'), dashboardTemplate(), 'regenerate: node dist/test/unit/dashboard-template.js > ansible/roles/aws_resources/templates/dashboard.json.j2');
});

test('Ansible’s rendering of the template is the body bootstrap writes, for the same values', (t) => {
  t.deepEqual(JSON.parse(renderAnsible()), JSON.parse(dashboardBody(settings)));
});

for (const [who, body] of [
  ['bootstrap', () => dashboardBody(settings)],
  ['ansible', renderAnsible],
] as const) {
  test(`${who}: every widget charts a metric the daemons publish, with their dimensions`, (t) => {
    const charted = chartedMetrics(body());
    t.true(charted.length >= 15);
    const wrong = charted.filter((m) => {
      const { Daemon, ...rest } = m.dimensions;
      return Daemon === undefined || !isPublished(m.metric, Daemon, Object.keys(rest));
    });
    t.deepEqual(wrong, [], 'charted with a name, daemon or dimensions nothing publishes');
    const jobs = charted.filter((m) => m.metric === 'JobDuration').map((m) => m.dimensions.Job);
    t.deepEqual(jobs, settings.jobs);
    // freshness: send → staged of the topic, send → lake of every table
    t.deepEqual(charted.filter((m) => m.widget.startsWith('Freshness')).map((m) => [m.metric, m.dimensions.Topic ?? m.dimensions.Table]), [
      ['StagedLatency', settings.topic],
      ...settings.tables.map((x) => ['LakeLatency', x]),
    ]);
    t.true(charted.some((m) => m.metric === 'ConsumerGroupLag' && m.dimensions.Topic === settings.topic));
  });
}

test('the published-metrics check rejects what the dashboard used to chart', (t) => {
  t.false(isPublished('ConsumerLag', 'consumer', ['Topic']));
  t.false(isPublished('JobDuration', 'scheduler', []));
  t.true(isPublished('JobDuration', 'scheduler', ['Job']));
  t.true(isPublished('ConsumerGroupLag', 'scheduler', ['Topic']));
});

test('the alarms of config/alarms.json watch published metrics too', (t) => {
  const { alarms } = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'config/alarms.json'), 'utf8')) as { alarms: { name: string; metric: string; dimensions: Record<string, string> }[] };
  const wrong = alarms.filter(({ metric, dimensions: { Daemon, ...rest } }) => Daemon === undefined || !isPublished(metric, Daemon, Object.keys(rest))).map((a) => a.name);
  t.deepEqual(wrong, []);
});

test('every alarm of config/alarms.json has its metric on the dashboard, with the same dimensions', (t) => {
  const { alarms } = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'config/alarms.json'), 'utf8')) as { alarms: { name: string; metric: string; dimensions: Record<string, string> }[] };
  const charted = chartedMetrics(dashboardBody(settings));
  const key = (metric: string, d: Record<string, string>) => `${metric} ${JSON.stringify(Object.entries(d).sort())}`;
  const shown = new Set(charted.map((m) => key(m.metric, m.dimensions)));
  const topic = (d: Record<string, string>) => Object.fromEntries(Object.entries(d).map(([k, v]) => [k, v.replace('${topic}', settings.topic)]));
  t.deepEqual(
    alarms.filter((a) => !shown.has(key(a.metric, topic(a.dimensions)))).map((a) => a.name),
    [],
  );
  t.true(alarms.some((a) => a.metric === 'UnderReplicatedPartitions'));
});

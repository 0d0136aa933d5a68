// kafkalake status [--json] — the pipeline on one screen: daemons, Kafka cluster, rates, lag, freshness, jobs, DLQ,
// alarms. In local mode it evaluates the alarms first (the twin evaluates none). Exit 0 when every
// stage is healthy, 3 when something is not (the report still printed), 1 when it could not run.
import { resolveFromRoot } from '../lib/paths.js';
import type { ClusterHealth } from '../lib/cluster-health.js';
import type { Section, StatusReport } from './status-report.js';
import { type Command, context, parse } from './context.js';

const usage = 'kafkalake status [--config FILE] [--json]';

const ago = (s: number | null) => (s === null ? 'never' : s < 120 ? `${s} s ago` : s < 7200 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`);
const hhmmss = (iso: string | null | undefined) => (iso ? iso.slice(11, 19) : '-');
const num = (n: number) => n.toLocaleString('en-US');

function section<T>(s: Section<T>, render: (v: T) => string[]): string[] {
  return s.ok ? render(s.value) : [`unavailable: ${s.error}`];
}

/** The CLUSTER lines: "3/3 brokers up, controller 2; 0 under-replicated, 0 offline partitions", then the partitions named. */
export function renderCluster(h: ClusterHealth): string[] {
  const few = (xs: string[]) => `${xs.slice(0, 5).join(', ')}${xs.length > 5 ? ` and ${xs.length - 5} more` : ''}`;
  const brokers =
    h.brokers === null
      ? `brokers unknown of ${h.expected} expected`
      : `${h.brokers.length}/${h.expected} brokers up${h.brokers.length < h.expected ? ` (alive: ${h.brokers.join(', ') || 'none'})` : ''}, controller ${h.controller ?? 'none'}`;
  const lines = [`${brokers}; ${num(h.underReplicated.length)} under-replicated, ${num(h.offline.length)} offline partition${h.offline.length === 1 ? '' : 's'}`];
  if (h.offline.length > 0) lines.push(`offline: ${few(h.offline)}`);
  if (h.underReplicated.length > 0) lines.push(`under-replicated: ${few(h.underReplicated)}`);
  if (h.partial) lines.push(`(${h.partial})`);
  return lines;
}

export function renderStatus(r: StatusReport): string {
  const rows: [string, string[]][] = [
    [
      'daemons',
      section(r.daemons, (ds) =>
        ds.map(
          (d) =>
            `${d.daemon.padEnd(10)} ${d.state.padEnd(10)} heartbeat ${ago(d.heartbeatAgeS)}${d.memoryRssMb !== null ? `, rss ${d.memoryRssMb} MB` : ''}${d.eventLoopDelayMs !== null ? `, loop p99 ${d.eventLoopDelayMs} ms` : ''}`,
        ),
      ),
    ],
    ['cluster', section(r.cluster, renderCluster)],
    ['rates', section(r.rates, (x) => [`in ${x.recordsInPerS}/s, staged ${x.recordsStagedPerS}/s, dead-lettered ${num(x.dlqRecords)} (last ${x.windowS} s)`])],
    ['lag', section(r.lag, (x) => [`${num(x.total)} records behind`, x.partitions.map((p) => `p${p.partition} ${num(p.lag)}`).join('  ')])],
    [
      'freshness',
      section(r.freshness, (x) => [`staging: newest object ${ago(x.stagedAgeS)}${x.newestStaged ? ` (${x.newestStaged.split('/').pop() ?? ''})` : ''}`, `lake: bookmark written ${ago(x.lakeAgeS)}`]),
    ],
    [
      'jobs',
      section(r.jobs, (js) =>
        js.map((j) => {
          const last = j.last ? `${j.last.outcome} at ${hhmmss(j.last.start)} in ${(j.last.durationMs / 1000).toFixed(1)} s${j.last.error ? `: ${j.last.error.slice(0, 80)}` : ''}` : 'never run';
          return `${j.name.padEnd(28)} ${j.schedule.padEnd(16)} last ${last}; next ${hhmmss(j.next)}${j.skipped ? `; ${j.skipped} fires skipped (still running)` : ''}`;
        }),
      ),
    ],
    ['dlq', section(r.dlq, (x) => [`${num(x.objects)}${x.truncated ? '+' : ''} object${x.objects === 1 ? '' : 's'} in staging/_dlq/${r.topic}/ (consumer ${num(x.consumer)}, etl ${num(x.etl)})`])],
    [
      'alarms',
      section(r.alarms, (x) =>
        x.defined === 0
          ? ['none defined: run `kafkalake bootstrap`']
          : x.inAlarm.length === 0
            ? [`${x.defined} defined, none in ALARM${x.evaluatedHere ? ' (evaluated by kafkalake)' : ''}`]
            : x.inAlarm.map((a) => `ALARM ${a.name} since ${hhmmss(a.since)}: ${a.reason.slice(0, 110)}`),
      ),
    ],
  ];
  const out = [`kafkalake status at ${r.at.slice(0, 19)}Z: mode ${r.mode}, bucket ${r.bucket}, topic ${r.topic}`];
  for (const [name, lines] of rows) lines.forEach((l, i) => out.push(`${(i === 0 ? name.toUpperCase() : '').padEnd(10)} ${l}`));
  out.push(r.healthy ? 'HEALTHY    every stage is healthy' : `UNHEALTHY  ${r.problems.join('; ')}`);
  return `${out.join('\n')}\n`;
}

export const status: Command = {
  name: 'status',
  summary: 'the pipeline on one screen: daemons, Kafka cluster, rates, lag, freshness, jobs, DLQ, alarms (--json for scripts)',
  usage,
  async run(args) {
    const { values } = parse(args, { json: { type: 'boolean' } }, usage);
    if (values.help) {
      process.stdout.write(`usage: ${usage}\nexit status: 0 healthy, 3 something is not (see the last line or "problems")\n`);
      return 0;
    }
    // the AWS SDK, DuckDB and the job table load only now, so `status --help` stays quick
    const [{ RUN_JOBS }, { gatherStatus }, { buildJobs }, { listReportFiles }] = await Promise.all([
      import('../jobs/table.js'),
      import('./status-report.js'),
      import('../scheduler/jobs.js'),
      import('../scheduler/report-files.js'),
    ]);
    const ctx = context('status', values.config, {}, 'stderr');
    const quiet = ctx.log.child({});
    quiet.level = 'error';
    const jobs = buildJobs({ config: ctx.config, log: quiet, runJobs: RUN_JOBS, reports: listReportFiles(resolveFromRoot(ctx.config.reports.dir)) });
    const report = await gatherStatus({ config: ctx.config, log: quiet, jobs });
    process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : renderStatus(report));
    return report.healthy ? 0 : 3;
  },
};

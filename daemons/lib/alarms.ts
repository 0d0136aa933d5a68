// The CloudWatch alarms of the pipeline: definitions read from the repo (config/alarms.json), created
// idempotently (DescribeAlarms, then PutMetricAlarm only for what is missing or different), and
// evaluated by kafkalake itself where nothing else evaluates them: the local twin stores alarms but
// never changes their state, so in local mode the scheduler and `kafkalake status` run evaluateAlarms(),
// which reads the metrics with GetMetricData and sets the state with SetAlarmState.
import { readFileSync } from 'node:fs';
import {
  type CloudWatchClient,
  type ComparisonOperator,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  type MetricAlarm,
  PutMetricAlarmCommand,
  type PutMetricAlarmCommandInput,
  SetAlarmStateCommand,
  type StateValue,
  type Statistic,
} from '@aws-sdk/client-cloudwatch';
import type { Config } from './config/index.js';
import { KafkalakeError, oneLine, wrap } from './errors.js';

export interface AlarmDefinition {
  name: string;
  description: string;
  metric: string;
  dimensions: Record<string, string>;
  statistic: Statistic;
  comparison: Extract<ComparisonOperator, 'GreaterThanThreshold' | 'GreaterThanOrEqualToThreshold' | 'LessThanThreshold' | 'LessThanOrEqualToThreshold'>;
  threshold: number;
  evaluationPeriods: number;
  treatMissingData: 'breaching' | 'notBreaching' | 'missing' | 'ignore';
}

export interface AlarmSettings {
  namespace: string;
  prefix: string;
  periodSeconds: number;
  actions: string[];
}

const STATISTICS = ['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum'];
const COMPARISONS = ['GreaterThanThreshold', 'GreaterThanOrEqualToThreshold', 'LessThanThreshold', 'LessThanOrEqualToThreshold'];
const MISSING = ['breaching', 'notBreaching', 'missing', 'ignore'];

const fill = (s: string, vars: Record<string, string>, where: string) =>
  s.replace(/\$\{(\w+)\}/g, (_, k: string) => {
    const v = vars[k];
    if (v === undefined) throw new KafkalakeError(`${where}: unknown variable \${${k}} (known: ${Object.keys(vars).join(', ')})`, { where });
    return v;
  });

/** Read and check the definitions file, filling ${topic}-style variables. */
export function loadAlarmDefinitions(file: string, vars: Record<string, string>): AlarmDefinition[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new KafkalakeError(`cannot read the alarm definitions ${file}: ${oneLine(err)}`, { where: file });
  }
  const list = (raw as { alarms?: unknown } | null)?.alarms;
  if (!Array.isArray(list)) throw new KafkalakeError(`${file}: expected {"alarms": [...]}`, { where: file });
  const names = new Set<string>();
  return list.map((a: Record<string, unknown>, i) => {
    const where = `${file} alarms[${i}]${typeof a.name === 'string' ? ` (${a.name})` : ''}`;
    const str = (k: string) => {
      const v = a[k];
      if (typeof v !== 'string' || !v) throw new KafkalakeError(`${where}: "${k}" must be a non-empty string`, { where });
      return fill(v, vars, where);
    };
    const oneOf = <T extends string>(k: string, allowed: string[]) => {
      const v = str(k);
      if (!allowed.includes(v)) throw new KafkalakeError(`${where}: "${k}" is "${v}"; allowed: ${allowed.join(', ')}`, { where });
      return v as T;
    };
    const num = (k: string, min: number) => {
      const v = typeof a[k] === 'string' ? Number(fill(a[k], vars, where)) : a[k];
      if (typeof v !== 'number' || !Number.isFinite(v) || v < min) throw new KafkalakeError(`${where}: "${k}" must be a number ≥ ${min}`, { where });
      return v;
    };
    const dims = a.dimensions;
    if (!dims || typeof dims !== 'object') throw new KafkalakeError(`${where}: "dimensions" must be an object`, { where });
    const def: AlarmDefinition = {
      name: str('name'),
      description: str('description'),
      metric: str('metric'),
      dimensions: Object.fromEntries(Object.entries(dims).map(([k, v]) => [k, fill(String(v), vars, where)])),
      statistic: oneOf('statistic', STATISTICS),
      comparison: oneOf('comparison', COMPARISONS),
      threshold: num('threshold', -Infinity),
      evaluationPeriods: num('evaluationPeriods', 1),
      treatMissingData: oneOf('treatMissingData', MISSING),
    };
    if (names.has(def.name)) throw new KafkalakeError(`${where}: alarm "${def.name}" is defined twice`, { where });
    names.add(def.name);
    return def;
  });
}

const dimList = (d: Record<string, string>) => Object.entries(d).map(([Name, Value]) => ({ Name, Value }));

export function alarmInput(def: AlarmDefinition, s: AlarmSettings): PutMetricAlarmCommandInput {
  return {
    AlarmName: `${s.prefix}${def.name}`,
    AlarmDescription: def.description,
    Namespace: s.namespace,
    MetricName: def.metric,
    Dimensions: dimList(def.dimensions),
    Statistic: def.statistic,
    Period: s.periodSeconds,
    EvaluationPeriods: def.evaluationPeriods,
    DatapointsToAlarm: def.evaluationPeriods,
    Threshold: def.threshold,
    ComparisonOperator: def.comparison,
    TreatMissingData: def.treatMissingData,
    ActionsEnabled: s.actions.length > 0,
    AlarmActions: s.actions,
    OKActions: s.actions,
  };
}

const sortDims = (d: { Name?: string; Value?: string }[] | undefined) =>
  JSON.stringify([...(d ?? [])].map((x) => [x.Name, x.Value]).sort());

/** Whether an existing alarm already says what the input says. */
function same(a: MetricAlarm, i: PutMetricAlarmCommandInput): boolean {
  return (
    a.AlarmDescription === i.AlarmDescription &&
    a.Namespace === i.Namespace &&
    a.MetricName === i.MetricName &&
    sortDims(a.Dimensions) === sortDims(i.Dimensions) &&
    a.Statistic === i.Statistic &&
    a.Period === i.Period &&
    a.EvaluationPeriods === i.EvaluationPeriods &&
    a.Threshold === i.Threshold &&
    a.ComparisonOperator === i.ComparisonOperator &&
    a.TreatMissingData === i.TreatMissingData &&
    JSON.stringify([...(a.AlarmActions ?? [])].sort()) === JSON.stringify([...(i.AlarmActions ?? [])].sort())
  );
}

export async function describeAlarms(cw: CloudWatchClient, prefix: string): Promise<MetricAlarm[]> {
  const out: MetricAlarm[] = [];
  let token: string | undefined;
  do {
    const r = await cw.send(new DescribeAlarmsCommand({ AlarmNamePrefix: prefix, NextToken: token }));
    out.push(...(r.MetricAlarms ?? []));
    token = r.NextToken;
  } while (token);
  return out;
}

export interface PutAlarmsResult {
  created: string[];
  updated: string[];
  unchanged: string[];
}

/** Create or update the alarms; an alarm that already matches its definition is left alone. */
export async function putAlarms(cw: CloudWatchClient, defs: AlarmDefinition[], s: AlarmSettings): Promise<PutAlarmsResult> {
  const where = `CloudWatch alarms ${s.prefix}*`;
  let existing: MetricAlarm[];
  try {
    existing = await describeAlarms(cw, s.prefix);
  } catch (err) {
    throw wrap(err, where, 'DescribeAlarms failed');
  }
  const byName = new Map(existing.map((a) => [a.AlarmName, a]));
  const res: PutAlarmsResult = { created: [], updated: [], unchanged: [] };
  for (const def of defs) {
    const input = alarmInput(def, s);
    const name = input.AlarmName!;
    const cur = byName.get(name);
    if (cur && same(cur, input)) {
      res.unchanged.push(name);
      continue;
    }
    try {
      await cw.send(new PutMetricAlarmCommand(input));
    } catch (err) {
      throw wrap(err, `CloudWatch alarm ${name}`, 'PutMetricAlarm failed');
    }
    (cur ? res.updated : res.created).push(name);
  }
  return res;
}

export interface Evaluation {
  alarm: string;
  state: StateValue;
  reason: string;
  /** the value of each period, oldest first; null: no data */
  values: (number | null)[];
  changed: boolean;
}

const breaches = (v: number, d: AlarmDefinition) =>
  d.comparison === 'GreaterThanThreshold'
    ? v > d.threshold
    : d.comparison === 'GreaterThanOrEqualToThreshold'
      ? v >= d.threshold
      : d.comparison === 'LessThanThreshold'
        ? v < d.threshold
        : v <= d.threshold;

/**
 * CloudWatch's rule for N of N periods, with its treatment of missing data. The first `before` periods
 * began before the alarm existed: missing data treated as breaching is not judged there (the daemon
 * the alarm watches was not started yet), so such an alarm waits for a period of its own; a value there
 * is judged as usual, and so is missing data treated as not breaching.
 */
export function decide(def: AlarmDefinition, values: (number | null)[], before = 0): { state: StateValue | undefined; reason: string } {
  const missing = def.treatMissingData === 'breaching' ? true : def.treatMissingData === 'notBreaching' ? false : undefined;
  const verdicts = values.map((v, i) => (v === null ? (i < before && missing === true ? undefined : missing) : breaches(v, def)));
  const known = verdicts.filter((x): x is boolean => x !== undefined);
  const shown = values.map((v) => (v === null ? '-' : String(Math.round(v * 100) / 100))).join(', ');
  const unjudged = Math.min(before, values.length) > 0 && missing === true ? `; missing data in ${Math.min(before, values.length)} periods before the alarm existed not judged` : '';
  const text = `${def.metric} ${def.statistic} per period [${shown}] ${def.comparison} ${def.threshold}${unjudged}`;
  if (known.length === 0) return { state: def.treatMissingData === 'ignore' ? undefined : 'INSUFFICIENT_DATA', reason: `no data: ${text}` };
  if (known.every(Boolean)) return { state: 'ALARM', reason: `breached in ${known.length} of ${values.length} periods: ${text}` };
  return { state: 'OK', reason: `not breached: ${text}` };
}

/**
 * Evaluate every alarm over its last evaluationPeriods periods (ending at `now`) and set the state of
 * those whose state differs. This is what CloudWatch does on AWS; the twin needs it done for it.
 */
export async function evaluateAlarms(cw: CloudWatchClient, defs: AlarmDefinition[], s: AlarmSettings, now: Date = new Date()): Promise<Evaluation[]> {
  const periodMs = s.periodSeconds * 1000;
  const current = new Map((await describeAlarms(cw, s.prefix)).map((a) => [a.AlarmName, a]));
  const out: Evaluation[] = [];
  for (const def of defs) {
    const name = `${s.prefix}${def.name}`;
    // whole seconds: the twin truncates the start, and a bucket must not fall just before it
    const start = new Date(Math.floor((now.getTime() - def.evaluationPeriods * periodMs) / 1000) * 1000);
    const r = await cw.send(
      new GetMetricDataCommand({
        StartTime: start,
        EndTime: new Date(Math.ceil(now.getTime() / 1000) * 1000), // the twin truncates it to the second
        MetricDataQueries: [{ Id: 'm', MetricStat: { Metric: { Namespace: s.namespace, MetricName: def.metric, Dimensions: dimList(def.dimensions) }, Period: s.periodSeconds, Stat: def.statistic } }],
      }),
    );
    const values: (number | null)[] = Array.from({ length: def.evaluationPeriods }, () => null);
    const res = r.MetricDataResults?.[0];
    (res?.Timestamps ?? []).forEach((ts, i) => {
      const idx = Math.min(values.length - 1, Math.max(0, Math.round((ts.getTime() - start.getTime()) / periodMs)));
      const v = res?.Values?.[i];
      if (v !== undefined) values[idx] = v;
    });
    const cur = current.get(name);
    const created = cur?.AlarmConfigurationUpdatedTimestamp?.getTime();
    const before = created === undefined ? 0 : values.filter((_, i) => start.getTime() + i * periodMs < created).length;
    const { state, reason } = decide(def, values, before);
    const changed = state !== undefined && cur !== undefined && cur.StateValue !== state;
    if (changed) await cw.send(new SetAlarmStateCommand({ AlarmName: name, StateValue: state, StateReason: `kafkalake evaluation: ${reason}`.slice(0, 1023) }));
    out.push({ alarm: name, state: state ?? cur?.StateValue ?? 'INSUFFICIENT_DATA', reason, values, changed });
  }
  return out;
}

/** The definitions and settings the config names (monitoring.*, metrics.namespace, kafka.topic). */
export function alarmsFromConfig(
  c: Pick<Config, 'monitoring' | 'metrics' | 'kafka'>,
  resolve: (p: string) => string,
): { defs: AlarmDefinition[]; settings: AlarmSettings } {
  const defs = loadAlarmDefinitions(resolve(c.monitoring.alarmsFile), { topic: c.kafka.topic, lagThreshold: String(c.monitoring.lagThreshold) });
  return { defs, settings: { namespace: c.metrics.namespace, prefix: c.monitoring.alarmPrefix, periodSeconds: c.monitoring.periodSeconds, actions: [...c.monitoring.alarmActions] } };
}

/** Whether kafkalake evaluates the alarms itself: auto = local mode (the twin evaluates none). */
export const evaluatesAlarms = (c: Pick<Config, 'mode' | 'scheduler'>) => c.scheduler.evaluateAlarms === 'on' || (c.scheduler.evaluateAlarms === 'auto' && c.mode === 'local');

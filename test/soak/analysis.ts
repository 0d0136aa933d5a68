// The soak run's judgement: least squares slopes of each process's RSS and open files, and of the
// consumer lag, over the samples after a warm-up, and whether they clearly grow.

export interface Sample {
  /** ms since the start of the run */
  t: number;
  /** per process name: resident bytes and open file descriptors */
  usage: Record<string, { rss: number; fds: number }>;
  /** the consumer group's total lag (records); undefined when Kafka did not answer */
  lag: number | undefined;
}

export interface Fit {
  /** units per ms */
  slope: number;
  mean: number;
  /** ms between the first and the last sample fitted */
  windowMs: number;
  n: number;
  /** slope / its standard error: how sure the fit is that the slope is not 0 (Infinity on a perfect line) */
  t: number;
}

export interface Verdict {
  name: string;
  ok: boolean;
  why: string;
  line: string;
}

const HOUR = 3_600_000;

/** The samples after the warm-up: the first 20 % of the run, at most 2 minutes. */
export function afterWarmUp(samples: Sample[]): Sample[] {
  const last = samples.at(-1)?.t ?? 0;
  const warm = Math.min(120_000, last * 0.2);
  return samples.filter((s) => s.t >= warm);
}

/** Least squares line through (t, value(sample)) of the samples after the warm-up that have a value. */
export function fitSlope(samples: Sample[], value: (s: Sample) => number | undefined): Fit | undefined {
  const pts = afterWarmUp(samples)
    .map((s) => [s.t, value(s)] as const)
    .filter((p): p is readonly [number, number] => p[1] !== undefined);
  const n = pts.length;
  if (n < 3) return undefined;
  const mt = pts.reduce((a, p) => a + p[0], 0) / n;
  const mv = pts.reduce((a, p) => a + p[1], 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const [t, v] of pts) {
    sxy += (t - mt) * (v - mv);
    sxx += (t - mt) ** 2;
  }
  const slope = sxx === 0 ? 0 : sxy / sxx;
  let rss = 0;
  for (const [t, v] of pts) rss += (v - (mv + slope * (t - mt))) ** 2;
  const se = sxx === 0 ? 0 : Math.sqrt(rss / (n - 2) / sxx);
  return { slope, mean: mv, windowMs: (pts.at(-1)?.[0] ?? 0) - (pts[0]?.[0] ?? 0), n, t: se === 0 ? (slope === 0 ? 0 : Infinity) : slope / se };
}

/** A growth is clear when the slope is 3 standard errors from 0 (a spiky series over a short run is not). */
export const CLEAR_T = 3;

/**
 * A process (daemon: judged; else information only): its RSS clearly grows when the fitted growth over the
 * measured window is above 32 MB and 20 % of its mean; its open files when the fitted growth is above 20.
 * The lag (opts.lag = records/s produced): it grows when the fitted growth is above 30 s of records, and is
 * unbounded when the mean of the last third of the samples is above 60 s of records. Growths count only
 * when clear (CLEAR_T).
 */
export function judge(name: string, samples: Sample[], opts: { daemon?: boolean; lag?: number }): Verdict[] {
  if (opts.lag !== undefined) {
    const rate = opts.lag;
    const fit = fitSlope(samples, (s) => s.lag);
    if (!fit) return [{ name, ok: false, why: `${name}: too few samples to judge`, line: `${name.padEnd(14)} too few samples` }];
    const growth = fit.slope * fit.windowMs;
    const tail = afterWarmUp(samples).slice(-Math.max(1, Math.ceil(fit.n / 3)));
    const tailMean = tail.reduce((a, s) => a + (s.lag ?? 0), 0) / tail.length;
    const why: string[] = [];
    if (growth > rate * 30 && fit.t > CLEAR_T) why.push(`${name} grows: +${Math.round(growth)} records fitted over ${(fit.windowMs / 60_000).toFixed(1)} min`);
    if (tailMean > rate * 60) why.push(`${name} stays high: ${Math.round(tailMean)} records on average over the last third`);
    return [{ name, ok: why.length === 0, why: why.join('; '), line: `${name.padEnd(14)} ${Math.round(fit.slope * HOUR)} records/h, mean ${Math.round(fit.mean)}, last third ${Math.round(tailMean)}  ${why.length ? 'GROWING' : 'bounded'}` }];
  }
  const rss = fitSlope(samples, (s) => (s.usage[name] ? s.usage[name].rss / 1048576 : undefined));
  const fds = fitSlope(samples, (s) => s.usage[name]?.fds);
  if (!rss || !fds) return [{ name, ok: !opts.daemon, why: `${name}: too few samples to judge`, line: `${name.padEnd(14)} too few samples` }];
  const why: string[] = [];
  const rssGrowth = rss.slope * rss.windowMs;
  const fdGrowth = fds.slope * fds.windowMs;
  if (rssGrowth > Math.max(32, 0.2 * rss.mean) && rss.t > CLEAR_T) why.push(`${name} RSS grows: +${rssGrowth.toFixed(0)} MB fitted over ${(rss.windowMs / 60_000).toFixed(1)} min`);
  if (fdGrowth > 20 && fds.t > CLEAR_T) why.push(`${name} open files grow: +${fdGrowth.toFixed(0)} fitted over ${(fds.windowMs / 60_000).toFixed(1)} min`);
  const sure = `t ${Number.isFinite(rss.t) ? rss.t.toFixed(1) : '∞'}`;
  const verdict = !opts.daemon ? `(information only)${why.length ? ` ${why.join('; ')}` : ''}` : why.length ? `GROWING: ${why.join('; ')}` : 'flat';
  return [
    {
      name,
      ok: !opts.daemon || why.length === 0,
      why: why.join('; '),
      line: `${name.padEnd(14)} ${(rss.slope * HOUR).toFixed(1).padStart(9)} ${rss.mean.toFixed(0).padStart(8)} ${(fds.slope * HOUR).toFixed(1).padStart(7)} ${fds.mean.toFixed(0).padStart(8)}  ${sure.padEnd(7)} ${verdict}`,
    },
  ];
}

/**
 * The seconds an ETL run spent waiting on the object store's LISTs, from its summary ("…(S3: 9 LIST
 * 0.41 s, …)", daemons/jobs/etl.ts describeStoreCalls); undefined when the summary does not say.
 */
export function listSeconds(summary: unknown): number | undefined {
  const m = typeof summary === 'string' ? / (\d+) LIST (\d+(?:\.\d+)?) s\b/.exec(summary) : null;
  return m ? Number(m[2]) : undefined;
}

/** The mean of the first and of the last third of a series (runs in order). */
export function thirds(xs: number[]): { first: number; last: number; ratio: number } {
  const n = Math.ceil(xs.length / 3);
  const mean = (ys: number[]) => (ys.length ? ys.reduce((a, b) => a + b, 0) / ys.length : 0);
  const first = mean(xs.slice(0, n));
  const last = mean(xs.slice(-n));
  return { first, last, ratio: first > 0 ? last / first : Number.NaN };
}

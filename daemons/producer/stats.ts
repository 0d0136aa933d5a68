// What the producer counts: records acknowledged (sent), records that failed (a send that gave up, a bad
// row, a record left unsent after an earlier failure), bytes, and the rate. Read by the daemon's periodic
// log line, `kafkalake produce`'s progress line and its summary.

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => performance.now() };

export interface StatsSnapshot {
  sent: number;
  failed: number;
  /** of `failed`: rows the source skipped */
  badRows: number;
  /** value bytes acknowledged */
  bytes: number;
  /** ms since the first record was handed to Kafka (0 before) */
  elapsedMs: number;
  /** records/s over elapsedMs */
  rate: number;
  /** value bytes/s over elapsedMs */
  byteRate: number;
}

export class Stats {
  sent = 0;
  failed = 0;
  badRows = 0;
  bytes = 0;
  private started: number | undefined;
  private ended: number | undefined;

  constructor(private readonly clock: Clock = systemClock) {}

  /** the first send starts the clock */
  start(): void {
    this.started ??= this.clock.now();
  }

  /** the last acknowledgement stops it (for the summary's rate) */
  stop(): void {
    if (this.started !== undefined) this.ended ??= this.clock.now();
  }

  acked(records: number, bytes: number): void {
    this.sent += records;
    this.bytes += bytes;
  }

  lost(records: number): void {
    this.failed += records;
  }

  badRow(): void {
    this.badRows++;
    this.failed++;
  }

  snapshot(): StatsSnapshot {
    const elapsedMs = this.started === undefined ? 0 : (this.ended ?? this.clock.now()) - this.started;
    const secs = elapsedMs / 1000;
    return {
      sent: this.sent,
      failed: this.failed,
      badRows: this.badRows,
      bytes: this.bytes,
      elapsedMs: Math.round(elapsedMs),
      rate: secs > 0 ? Math.round(this.sent / secs) : 0,
      byteRate: secs > 0 ? Math.round(this.bytes / secs) : 0,
    };
  }
}

const fmt = (n: number) => n.toLocaleString('en-US');
const mb = (bytes: number) => (bytes / 1e6).toFixed(1);

/** `104,224 sent · 0 failed · 25,310 records/s · 5.2 MB/s` */
export function progressLine(s: StatsSnapshot): string {
  return `${fmt(s.sent)} sent · ${fmt(s.failed)} failed · ${fmt(s.rate)} records/s · ${mb(s.byteRate)} MB/s`;
}

/** `sent 104,224 records (21.9 MB) to stock_market_data in 4.1 s: 25,310 records/s, 5.3 MB/s; 0 failed` */
export function summaryLine(s: StatsSnapshot, topic: string): string {
  const bad = s.badRows > 0 ? ` (${fmt(s.badRows)} bad rows)` : '';
  return (
    `sent ${fmt(s.sent)} records (${mb(s.bytes)} MB) to ${topic} in ${(s.elapsedMs / 1000).toFixed(1)} s: ` +
    `${fmt(s.rate)} records/s, ${mb(s.byteRate)} MB/s; ${fmt(s.failed)} failed${bad}`
  );
}

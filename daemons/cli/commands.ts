// The table of subcommands: name and summary here, the module loaded only when its command runs, so
// `kafkalake <cmd>` pays for its own imports (the AWS SDK, DuckDB, kafkajs...) and nobody else's.
// Add a line here to add one; test/unit/commands.test.ts checks each module agrees with its line.
import type { Command } from './context.js';

export interface CommandEntry {
  name: string;
  /** one line for `kafkalake --help` */
  summary: string;
  load(): Promise<Command>;
}

export const COMMANDS: readonly CommandEntry[] = [
  { name: 'up', summary: 'local mode: start the stack and every daemon; Ctrl-C stops all', load: async () => (await import('./up.js')).up },
  { name: 'stack', summary: 'start, stop or check the local ZooKeeper, Kafka and AWS twin', load: async () => (await import('./stack.js')).stack },
  {
    name: 'config',
    summary: 'print the effective configuration (secrets hidden), or the reference of every key',
    load: async () => (await import('./config.js')).config,
  },
  { name: 'producer', summary: 'the producer daemon in the foreground (what systemd runs)', load: async () => (await import('./producer.js')).producer },
  {
    name: 'produce',
    summary: 'produce in the foreground: replay a CSV file or simulate ticks, then a summary',
    load: async () => (await import('./produce.js')).produce,
  },
  {
    name: 'consumer',
    summary: 'the consumer daemon: Kafka topic → S3 staging, exactly once (foreground)',
    load: async () => (await import('./consumer.js')).consumer,
  },
  {
    name: 'consume',
    summary: 'consume the topic into staging; --once: drain every partition to its current end, then exit',
    load: async () => (await import('./consume.js')).consume,
  },
  {
    name: 'console',
    summary: 'the pipeline and the reports on one read-only web page (127.0.0.1:8080 unless told otherwise)',
    load: async () => (await import('./console.js')).consoleCommand,
  },
  { name: 'dlq', summary: 'list, show or replay the dead letters of staging/_dlq/', load: async () => (await import('./dlq.js')).dlq },
  { name: 'run', summary: 'run one scheduler job now (etl, compact, crawl, report NAME) in the configured mode', load: async () => (await import('./run.js')).run },
  {
    name: 'reports',
    summary: 'the saved reports’ results: list them (latest date, rows, location) or show one as a table, CSV or JSON',
    load: async () => (await import('./reports.js')).reports,
  },
  {
    name: 'query',
    summary: 'run Athena-dialect SQL over the catalogued tables (DuckDB locally, Athena in aws mode)',
    load: async () => (await import('./query.js')).query,
  },
  {
    name: 'scheduler',
    summary: 'the scheduler daemon: ETL, crawl and saved reports on cron, lag, cluster and alarm monitors (foreground)',
    load: async () => (await import('./scheduler.js')).scheduler,
  },
  {
    name: 'status',
    summary: 'the pipeline on one screen: daemons, Kafka cluster, rates, lag, freshness, jobs, DLQ, alarms (--json for scripts)',
    load: async () => (await import('./status.js')).status,
  },
  {
    name: 'bootstrap',
    summary: 'create the bucket, Glue database and tables, alarms and dashboard (the twin’s in local mode), idempotently',
    load: async () => (await import('./bootstrap.js')).bootstrap,
  },
];

/** `kafkalake --help`: every command with its summary, from the table alone (no command module loaded). */
export function helpText(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'usage: kafkalake <command> [options]   (every command takes --config FILE)',
    '',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'kafkalake <command> --help shows the options of one command.',
    '',
  ].join('\n');
}

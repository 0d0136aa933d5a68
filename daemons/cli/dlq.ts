// kafkalake dlq list|show|replay — inspect the dead letters in staging/_dlq/ (the consumer's and the ETL's)
// and re-send them after a fix.
import { type DlqObject, listDlq, readDlq, replayObject } from '../consumer/dlq.js';
import type { Stage } from '../consumer/naming.js';
import { createAwsClients } from '../lib/aws.js';
import { createKafka } from '../lib/kafka.js';
import { type Command, context, parse, UsageError } from './context.js';

const usage = 'kafkalake dlq list [--topic T] [--stage consumer|etl] [--json] | show KEY [--json] | replay (KEY... | --all) [--topic T] [--stage consumer|etl] [--again] [--config FILE]';

const STAGES: readonly Stage[] = ['consumer', 'etl'];

const preview = (b64: string | null): string => {
  if (b64 === null) return '(null value)';
  const text = Buffer.from(b64, 'base64').toString('utf8').replace(/\p{Cc}/gu, '?');
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
};

export const dlq: Command = {
  name: 'dlq',
  summary: 'list, show or replay the dead letters of staging/_dlq/',
  usage,
  async run(args) {
    const { values, positionals } = parse(
      args,
      { topic: { type: 'string' }, stage: { type: 'string' }, json: { type: 'boolean' }, all: { type: 'boolean' }, again: { type: 'boolean' } },
      usage,
      true,
    );
    const [action, ...rest] = positionals;
    if (values.help || !action) {
      process.stdout.write(`usage: ${usage}\n`);
      return action ? 0 : 2;
    }
    if (values.stage !== undefined && !STAGES.includes(values.stage as Stage)) throw new UsageError(`--stage ${values.stage}: expected consumer or etl; usage: ${usage}`);
    const stage = values.stage as Stage | undefined;
    const ctx = context('dlq', values.config, {}, 'stderr');
    const { config } = ctx;
    const aws = createAwsClients(config);
    const d = { s3: aws.s3, bucket: config.aws.bucket, prefix: config.consumer.stagingPrefix };
    const out = (s: string) => process.stdout.write(`${s}\n`);
    try {
      switch (action) {
        case 'list': {
          const objects = await listDlq(d, values.topic, stage);
          const rows: Array<Pick<DlqObject, 'stage' | 'key' | 'topic' | 'partition' | 'first' | 'last' | 'replayed'> & { records: number; reasons: Record<string, number> }> = [];
          for (const o of objects) {
            const letters = await readDlq(d, o.key);
            const reasons: Record<string, number> = {};
            for (const l of letters) reasons[l.reason] = (reasons[l.reason] ?? 0) + 1;
            rows.push({ stage: o.stage, key: o.key, topic: o.topic, partition: o.partition, first: o.first, last: o.last, records: letters.length, reasons, replayed: o.replayed });
          }
          if (values.json) out(JSON.stringify(rows));
          else {
            for (const r of rows) {
              const why = Object.entries(r.reasons).map(([k, v]) => `${k}=${v}`).join(',');
              out(`${r.stage.padEnd(8)}  ${r.key}  ${r.records} record(s)  ${why}${r.replayed ? '  (replayed)' : ''}`);
            }
            const of = (s: Stage) => rows.filter((r) => r.stage === s).reduce((n, r) => n + r.records, 0);
            out(`${rows.length} DLQ object(s), ${rows.reduce((n, r) => n + r.records, 0)} dead letter(s) (consumer ${of('consumer')}, etl ${of('etl')}) in s3://${d.bucket}/${d.prefix}/_dlq/`);
          }
          return 0;
        }
        case 'show': {
          if (rest.length !== 1) throw new UsageError(`dlq show takes one object key (from dlq list); usage: ${usage}`);
          const letters = await readDlq(d, rest[0] as string);
          if (values.json) for (const l of letters) out(JSON.stringify(l));
          else for (const l of letters) out(`${l.stage}  ${l._topic}+${l._partition}+${l._offset}  ${l._timestamp}  key=${l._key ?? 'null'}  ${l.reason}: ${l.detail}  value: ${preview(l.raw_base64)}`);
          return 0;
        }
        case 'replay': {
          if (!values.all && rest.length === 0) throw new UsageError(`dlq replay needs object keys or --all; usage: ${usage}`);
          const objects = await listDlq(d, values.topic, stage);
          let chosen: DlqObject[] = objects;
          if (!values.all) {
            const missing = rest.filter((k) => !objects.some((o) => o.key === k));
            if (missing.length) throw new UsageError(`no such DLQ object: ${missing.join(', ')} (see kafkalake dlq list)`);
            chosen = objects.filter((o) => rest.includes(o.key));
          }
          const producer = createKafka({ kafka: config.kafka, log: ctx.log, clientSuffix: 'dlq-replay' }).producer({ idempotent: true, maxInFlightRequests: 1 });
          await producer.connect();
          let sent = 0;
          let kept = 0;
          try {
            for (const o of chosen) {
              const r = await replayObject(d, producer, o, { maxRecordBytes: config.consumer.maxRecordBytes, again: values.again ?? false });
              if (r.skipped) {
                out(`${o.key}: already replayed (--again to replay it again)`);
                continue;
              }
              sent += r.sent;
              kept += r.kept.length;
              const why = r.kept.map((k) => `${k.offset}:${k.reason}`).join(' ');
              out(`${o.key}: sent ${r.sent} to ${o.topic}${r.kept.length ? `; not sent, still bad under the current config: ${why}` : ''}`);
            }
          } finally {
            await producer.disconnect();
          }
          out(`replayed ${sent} dead letter(s); ${kept} still bad and left in the DLQ`);
          return 0;
        }
        default:
          throw new UsageError(`unknown action "${action}"; usage: ${usage}`);
      }
    } finally {
      aws.destroy();
    }
  },
};

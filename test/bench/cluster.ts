// Replicated-cluster benchmark: the producer and the consumer → staging on three brokers with a topic
// replicated 3 ways (min.insync.replicas 2, acks=all), beside the same on the single broker of the
// run's stack, with Kafka's own ProducerPerformance / ConsumerPerformance on the same kind of topic as
// the anchors, all in one run, alternating. The three brokers are real Kafka processes on loopback
// (startTestStack({ brokers: 3 })) sharing the machine's cores with everything else: the figures show
// what replication costs here, not what three hosts would reach (docs/deploy-aws.md sizes those).
import { startTestStack, type TestStack, unique } from '../helpers/stack.js';
import { consumeOnce, consumerPerformance, prefill, type Run } from './consumer.js';
import { type Benchmark, type BenchContext, fmt, machine, median } from './harness.js';
import { type Measured, ours, producerPerformance } from './producer.js';

const RUNS = 3;

interface Side {
  label: string;
  stack: TestStack;
  replication: number;
  produced: Measured[];
  pp: Measured[];
  consumed: Run[];
  cp: Run[];
}

const rate = (xs: Array<{ recordsPerS: number }>) => median(xs.map((x) => x.recordsPerS));
const range = (xs: Array<{ recordsPerS: number }>) => `${fmt(Math.min(...xs.map((x) => x.recordsPerS)))}–${fmt(Math.max(...xs.map((x) => x.recordsPerS)))}`;

export const clusterBench: Benchmark = {
  name: 'cluster',
  section: 'Replicated cluster (replication factor 3)',
  async run(ctx: BenchContext) {
    const produceN = ctx.quick ? 30_000 : 300_000;
    const consumeN = ctx.quick ? 30_000 : 1_000_000;
    ctx.say('  starting three brokers (ZooKeeper mode, 512 MB heap each)');
    const triple = await startTestStack({ brokers: 3, kafkaHeapMb: 512 });
    try {
      const single: Side = { label: '1 broker, replication 1', stack: await ctx.stack(), replication: 1, produced: [], pp: [], consumed: [], cp: [] };
      const three: Side = { label: '3 brokers, replication 3, min.insync.replicas 2', stack: triple, replication: 3, produced: [], pp: [], consumed: [], cp: [] };
      const sides = [single, three];
      const filled = new Map<Side, { topic: string; bytes: number }>();
      for (const side of sides) {
        const topic = unique('bench-cluster-consume');
        ctx.say(`  ${side.label}: pre-filling ${fmt(consumeN)} simulated records`);
        filled.set(side, { topic, bytes: await prefill(side.stack, topic, consumeN, side.replication) });
      }
      for (let i = 1; i <= RUNS; i++) {
        for (const side of sides) {
          side.produced.push(await ours(side.stack, produceN, 'kafkajs', side.replication));
          side.pp.push(await producerPerformance(side.stack, produceN, side.replication));
          const { topic, bytes } = filled.get(side) as { topic: string; bytes: number };
          side.consumed.push(await consumeOnce(side.stack, topic, consumeN, bytes));
          side.cp.push(await consumerPerformance(side.stack, topic, consumeN, bytes));
          ctx.say(
            `  run ${i}/${RUNS}, ${side.label}: produce ${fmt(side.produced.at(-1)?.recordsPerS ?? NaN)} (ProducerPerformance ${fmt(side.pp.at(-1)?.recordsPerS ?? NaN)}), ` +
              `consume → staging ${fmt(side.consumed.at(-1)?.recordsPerS ?? NaN)} (ConsumerPerformance ${fmt(side.cp.at(-1)?.recordsPerS ?? NaN)}) records/s`,
          );
        }
      }
      const row = (side: Side) =>
        `| ${side.label} | ${fmt(rate(side.produced))} (${range(side.produced)}) | ${fmt(rate(side.pp))} (${range(side.pp)}) | ${(rate(side.produced) / rate(side.pp)).toFixed(2)} | ` +
        `${fmt(rate(side.consumed))} (${range(side.consumed)}) | ${fmt(rate(side.cp))} (${range(side.cp)}) | ${(rate(side.consumed) / rate(side.cp)).toFixed(2)} |`;
      const cost = (f: (s: Side) => number) => `${((1 - f(three) / f(single)) * 100).toFixed(0)} %`;
      return [
        `Command: \`npm run bench\` or \`node dist/test/bench/main.js --only cluster${ctx.quick ? ' --quick' : ''}\` (${ctx.quick ? 'quick mode' : 'full size'}).`,
        '',
        `- Data: the producer sends ${fmt(produceN)} simulated records per run into a fresh topic of 6 partitions (\`kafkalake produce --source simulate\`, producer.client kafkajs, idempotent, acks=all; ProducerPerformance with 200-byte records, acks=all, into a topic made the same way); the consumer drains a topic pre-filled with ${fmt(consumeN)} records into staging (\`kafkalake consume --once\`, every record checked, gzipped and PUT to the twin, offsets committed; ConsumerPerformance reads the same topic).`,
        '- Clusters, in the same run: the run\'s single broker (replication 1) and three more brokers on loopback with their own ZooKeeper (broker ids 0–2, replication factor 3, min.insync.replicas 2, the group offsets topic replicated 3 ways), 512 MB heap each, alternating per run; median of 3 (min–max).',
        `- Machine: ${machine()}: the three brokers replicate over loopback on the same 2 cores as the clients, so replication costs CPU here, not network.`,
        '',
        '| cluster | kafkalake produce, records/s | ProducerPerformance, records/s | ratio | kafkalake consume → staging, records/s | ConsumerPerformance, records/s | ratio |',
        '|---|---:|---:|---:|---:|---:|---:|',
        row(single),
        row(three),
        '',
        `Replication 3 costs the producer ${cost((s) => rate(s.produced))} of its single-broker rate here (ProducerPerformance: ${cost((s) => rate(s.pp))}), and the consumer → staging ${cost((s) => rate(s.consumed))} (ConsumerPerformance: ${cost((s) => rate(s.cp))}); a negative figure is a gain. With acks=all an append waits for the in-sync replicas (two of three at least) to fetch it; reads come from the leaders only.`,
      ].join('\n');
    } finally {
      await triple.stop();
    }
  },
};

// Integration tests start the real local stack themselves, on free ports, in a temp state dir, and
// stop it when the test file ends. Every test then takes fresh names (topic, group, bucket) from unique().
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { createAwsClients } from '../../daemons/lib/aws.js';
import { type Config, loadConfig } from '../../daemons/lib/config/index.js';
import { createLogger } from '../../daemons/lib/log.js';
import { freePort } from '../../daemons/local/ports.js';
import { type StackHandle, startStack } from '../../daemons/local/stack.js';
import { PROJECT_ROOT } from '../../daemons/lib/paths.js';

export interface TestStack {
  handle: StackHandle;
  dir: string;
  brokers: string[];
  awsEndpoint: string;
  /** write a config file for this stack (plus overrides) and return its path, for child processes */
  configFile(overrides?: Record<string, unknown>): string;
  /** the loaded, frozen config for this stack (plus overrides), for in-process use */
  config(overrides?: Record<string, unknown>): Readonly<Config>;
  /** create a fresh bucket in the twin and return its name */
  bucket(): Promise<string>;
  stop(): Promise<void>;
}

export function unique(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

function merge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && cur && typeof cur === 'object' && !Array.isArray(cur) ? merge(cur as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
}

/** `brokers`: how many (ZooKeeper mode), 1 by default; with 3 the internal topics are replicated 3 ways and min.insync.replicas is 2. */
export async function startTestStack(opts: { kraft?: boolean; kafkaHeapMb?: number; withKafka?: boolean; brokers?: number } = {}): Promise<TestStack> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kafkalake-test-'));
  const local = {
    stateDir: path.join(dir, 'state'),
    libDir: path.join(PROJECT_ROOT, '.kafkalake/lib'),
    venvDir: path.join(PROJECT_ROOT, '.kafkalake/venv'),
    host: '127.0.0.1',
    zookeeperPort: await freePort(),
    kafkaPort: await freePort(),
    controllerPort: await freePort(),
    awsPort: await freePort(),
    kraft: opts.kraft ?? false,
    kafkaHeapMb: opts.kafkaHeapMb ?? 512,
  };
  const log = createLogger({ daemon: 'test-stack', level: 'warn', stream: process.stderr });
  const extraBrokerPorts: number[] = [];
  for (let i = 1; i < (opts.brokers ?? 1); i++) extraBrokerPorts.push(await freePort());
  const handle = await startStack({ ...local, extraBrokerPorts }, { timeoutMs: 90_000, log });
  const base = {
    mode: 'local',
    log: { level: 'warn' },
    kafka: { brokers: handle.brokers },
    aws: { endpoint: handle.awsEndpoint, bucket: 'kafkalake-test' },
    local: { ...local, startTimeoutMs: 90_000 },
  };
  let n = 0;
  const stack: TestStack = {
    handle,
    dir,
    brokers: handle.brokers,
    awsEndpoint: handle.awsEndpoint,
    configFile(overrides = {}) {
      const file = path.join(dir, `config-${++n}.json`);
      writeFileSync(file, JSON.stringify(merge(base, overrides), null, 2));
      return file;
    },
    config(overrides = {}) {
      return loadConfig({ file: stack.configFile(overrides), env: {} }).config;
    },
    async bucket() {
      const name = unique('kl-test').toLowerCase();
      const aws = createAwsClients(stack.config({ aws: { bucket: name } }));
      await aws.s3.send(new CreateBucketCommand({ Bucket: name }));
      aws.destroy();
      return name;
    },
    async stop() {
      await handle.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return stack;
}

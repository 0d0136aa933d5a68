// The three services of the local stack: how each is configured, started and asked whether it answers.
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Config } from '../lib/config/index.js';
import { KafkalakeError } from '../lib/errors.js';
import { portOpen } from './ports.js';
import type { SpawnOptions } from './process.js';

/**
 * The config's local.* keys; how long to wait for a start is the caller's (StartOptions.timeoutMs).
 * `extraBrokerPorts` (tests and benchmarks, not a config key): more brokers on these ports, ids 1, 2, …,
 * joining the first (ZooKeeper mode only), for a replicated cluster on one host.
 */
export type StackSettings = Omit<Config['local'], 'startTimeoutMs'> & { extraBrokerPorts?: number[] };

export type ServiceName = 'zookeeper' | 'kafka' | 'aws' | `kafka-${number}`;

export interface Service {
  name: ServiceName;
  endpoint: string;
  prepare(): SpawnOptions;
  /** true when the service answers; false or a string (why not) when it does not yet */
  probe(): Promise<boolean | string>;
}

const java = (): string => (process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java');

function requireJars(libDir: string): string {
  if (!existsSync(libDir) || !readdirSync(libDir).some((f) => f.startsWith('kafka_2.13-'))) {
    throw new KafkalakeError(`the Kafka jars are missing in ${libDir}: run \`npm run setup\` (it resolves them with Maven)`, { where: 'local stack' });
  }
  return path.join(libDir, '*');
}

function log4j(dir: string, name: string): string {
  const file = path.join(dir, 'log4j.properties');
  writeFileSync(
    file,
    [
      'log4j.rootLogger=INFO, stdout',
      'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
      'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
      `log4j.appender.stdout.layout.ConversionPattern=[%d] %p [${name}] %m (%c)%n`,
      'log4j.logger.kafka=INFO',
      'log4j.logger.org.apache.kafka=INFO',
      'log4j.logger.org.apache.zookeeper=WARN',
      'log4j.logger.kafka.request.logger=WARN',
      'log4j.logger.state.change.logger=WARN',
      '',
    ].join('\n'),
  );
  return file;
}

function jvm(s: StackSettings, dir: string, name: string, heapMb: number, main: string, args: string[]): SpawnOptions {
  return {
    name,
    dir,
    command: java(),
    args: [
      `-Xmx${heapMb}m`,
      `-Xms${Math.min(heapMb, 256)}m`,
      '-XX:+UseG1GC',
      '-Djava.awt.headless=true',
      `-Dlog4j.configuration=file:${log4j(dir, name)}`,
      `-Dkafka.logs.dir=${dir}`,
      '-cp',
      requireJars(s.libDir),
      main,
      ...args,
    ],
    detached: false,
  };
}

/** ZooKeeper answers "imok" to the four-letter word "ruok". */
async function ruok(host: string, port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const sock = net.connect({ host, port });
    let data = '';
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.on('connect', () => sock.write('ruok'));
    sock.on('data', (d) => (data += d.toString()));
    sock.on('end', () => done(data === 'imok'));
    sock.on('error', () => done(false));
  });
}

export function zookeeper(s: StackSettings): Service {
  const dir = path.join(s.stateDir, 'zookeeper');
  return {
    name: 'zookeeper',
    endpoint: `${s.host}:${s.zookeeperPort}`,
    prepare() {
      mkdirSync(path.join(dir, 'data'), { recursive: true });
      const props = path.join(dir, 'zookeeper.properties');
      writeFileSync(
        props,
        [
          `dataDir=${path.join(dir, 'data')}`,
          `clientPort=${s.zookeeperPort}`,
          `clientPortAddress=${s.host}`,
          'maxClientCnxns=0',
          'admin.enableServer=false',
          '4lw.commands.whitelist=ruok,srvr,stat',
          'tickTime=2000',
          '',
        ].join('\n'),
      );
      return jvm(s, dir, 'zookeeper', 256, 'org.apache.zookeeper.server.quorum.QuorumPeerMain', [props]);
    },
    probe: () => ruok(s.host, s.zookeeperPort),
  };
}

/** Broker `id` of a stack of `of` brokers (id 0 is the stack's first, `kafka`, on local.kafkaPort). */
export interface BrokerNode {
  id: number;
  port: number;
  of: number;
}

export function kafka(s: StackSettings, probe: () => Promise<boolean | string>, node: BrokerNode = { id: 0, port: s.kafkaPort, of: 1 }): Service {
  const name: ServiceName = node.id === 0 ? 'kafka' : `kafka-${node.id}`;
  const dir = path.join(s.stateDir, name);
  // internal topics replicated as far as the brokers allow; with three or more, a write needs two copies
  const rf = Math.min(3, node.of);
  return {
    name,
    endpoint: `${s.host}:${node.port}`,
    prepare() {
      const logDirs = path.join(dir, 'data');
      mkdirSync(logDirs, { recursive: true });
      const common = [
        `log.dirs=${logDirs}`,
        'num.partitions=6',
        'default.replication.factor=1',
        `offsets.topic.replication.factor=${rf}`,
        'offsets.topic.num.partitions=10',
        `transaction.state.log.replication.factor=${rf}`,
        `transaction.state.log.min.isr=${Math.min(2, rf)}`,
        `min.insync.replicas=${Math.min(2, rf)}`,
        'group.initial.rebalance.delay.ms=0',
        'auto.create.topics.enable=false',
        'log.retention.hours=168',
        'log.segment.bytes=268435456',
        'num.network.threads=2',
        'num.io.threads=4',
      ];
      const mode = s.kraft
        ? [
            'process.roles=broker,controller',
            'node.id=1',
            `controller.quorum.voters=1@${s.host}:${s.controllerPort}`,
            `listeners=PLAINTEXT://${s.host}:${s.kafkaPort},CONTROLLER://${s.host}:${s.controllerPort}`,
            `advertised.listeners=PLAINTEXT://${s.host}:${s.kafkaPort}`,
            'controller.listener.names=CONTROLLER',
            'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
            'inter.broker.listener.name=PLAINTEXT',
          ]
        : [
            `broker.id=${node.id}`,
            `listeners=PLAINTEXT://${s.host}:${node.port}`,
            `advertised.listeners=PLAINTEXT://${s.host}:${node.port}`,
            `zookeeper.connect=${s.host}:${s.zookeeperPort}`,
            'zookeeper.connection.timeout.ms=18000',
          ];
      const props = path.join(dir, 'server.properties');
      writeFileSync(props, [...mode, ...common, ''].join('\n'));
      const opts = jvm(s, dir, name, s.kafkaHeapMb, 'kafka.Kafka', [props]);
      if (s.kraft && !existsSync(path.join(logDirs, 'meta.properties'))) {
        // KRaft storage is formatted once with a fresh cluster id, as `kafka-storage.sh format` does
        const fmt = jvm(s, dir, 'kafka-storage', 256, 'kafka.tools.StorageTool', ['format', '-t', kraftClusterId(), '-c', props]);
        try {
          execFileSync(fmt.command, fmt.args, { stdio: ['ignore', 'pipe', 'pipe'] });
        } catch (e) {
          const out = e as { stdout?: Buffer; stderr?: Buffer };
          const said = [out.stderr, out.stdout].map((b) => b?.toString() ?? '').join('').trim().split('\n').filter(Boolean).pop() ?? 'no output';
          throw new KafkalakeError(`formatting KRaft storage in ${logDirs} failed: ${said}`, { where: 'local stack' });
        }
      }
      return opts;
    },
    probe,
  };
}

/**
 * A KRaft cluster id: 16 random bytes in URL-safe base64, as `kafka-storage.sh random-uuid` prints.
 * Like Kafka's Uuid.randomUuid(), never one that starts with "-": the storage tool would read it as an option.
 */
export function kraftClusterId(random: () => Buffer = () => randomBytes(16)): string {
  for (;;) {
    const id = random().toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

export function awsTwin(s: StackSettings): Service {
  const dir = path.join(s.stateDir, 'aws');
  const url = `http://${s.host}:${s.awsPort}`;
  return {
    name: 'aws',
    endpoint: url,
    prepare() {
      const bin = path.join(s.venvDir, 'bin', 'moto_server');
      if (!existsSync(bin)) {
        throw new KafkalakeError(`the AWS twin is missing (${bin}): run \`npm run setup\` (it creates the Python venv)`, { where: 'local stack' });
      }
      return { name: 'aws', dir, command: bin, args: ['-H', s.host, '-p', String(s.awsPort)], detached: false, env: { PYTHONUNBUFFERED: '1' } };
    },
    async probe() {
      if (!(await portOpen(s.host, s.awsPort, 500))) return false;
      try {
        const res = await fetch(`${url}/moto-api/data.json`, { signal: AbortSignal.timeout(2000) });
        return res.ok;
      } catch {
        return false;
      }
    },
  };
}

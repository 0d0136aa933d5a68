// The local stack: real ZooKeeper and Kafka from the Maven Central jars, and moto's server as the AWS
// twin, on one host address with data under the state dir. Children of the caller (kafkalake up, tests)
// or detached with pid files (kafkalake stack start|stop).
import '../lib/kafkajs-timeout.js';
import { Kafka, logLevel } from 'kafkajs';
import { isKafkaError } from '../lib/cluster-health.js';
import { KafkalakeError, oneLine } from '../lib/errors.js';
import { closeAll } from '../lib/lifecycle.js';
import type { Logger } from '../lib/log.js';
import { alive, clearPid, type ManagedProcess, readPid, startProcess, stopPid, waitUntil } from './process.js';
import { awsTwin, kafka, type Service, type ServiceName, type StackSettings, zookeeper } from './services.js';

export type { ServiceName, StackSettings } from './services.js';

export interface StackHandle {
  settings: StackSettings;
  brokers: string[];
  awsEndpoint: string;
  /** the processes this call started (a service found already answering is reused, not listed) */
  processes: ManagedProcess[];
  /**
   * Stop one service this call started (SIGTERM to its process group, SIGKILL after 15 s: Kafka and
   * ZooKeeper shut down cleanly), keeping its port and data, as `systemctl stop` on a host would.
   */
  stopService(name: ServiceName): Promise<void>;
  /** Start a stopped service again on the same port and data, and wait until it answers. */
  startService(name: ServiceName): Promise<void>;
  stop(): Promise<void>;
}

export interface StartOptions {
  detached?: boolean;
  timeoutMs?: number;
  log?: Logger;
}

/**
 * True once the broker answers metadata with its controller; otherwise why not. A partition without a
 * leader is the cluster's state, not the broker down: kafkajs refuses such a metadata response (it always
 * asks for every topic), but the broker answered it.
 */
async function kafkaAnswers(broker: string): Promise<true | string> {
  const admin = new Kafka({
    clientId: 'kafkalake-probe',
    brokers: [broker],
    connectionTimeout: 1000,
    requestTimeout: 2000,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0 && cluster.controller !== null && cluster.controller !== -1 ? true : `no controller yet (${cluster.brokers.length} brokers)`;
  } catch (err) {
    // a partition without a leader (a test's offline partition, or an election under way) fails the
    // metadata request, yet the broker answers: the cluster's health is `status`' to judge, not the probe's
    return isKafkaError(err, 'LEADER_NOT_AVAILABLE') ? true : oneLine(err);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

function brokerPorts(s: StackSettings): number[] {
  return [s.kafkaPort, ...(s.extraBrokerPorts ?? [])];
}

function services(s: StackSettings): Service[] {
  const ports = brokerPorts(s);
  if (s.kraft && ports.length > 1) throw new KafkalakeError(`the local stack runs one KRaft broker, not ${ports.length}: more brokers need ZooKeeper mode (local.kraft false)`, { where: 'local stack' });
  const brokers = ports.map((port, id) => kafka(s, () => kafkaAnswers(`${s.host}:${port}`), { id, port, of: ports.length }));
  return s.kraft ? [awsTwin(s), ...brokers] : [awsTwin(s), zookeeper(s), ...brokers];
}

export async function startStack(s: StackSettings, opts: StartOptions = {}): Promise<StackHandle> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const started: ManagedProcess[] = [];
  const stop = async () => {
    await closeAll(
      [...started].reverse().map((p) => [p.name, () => stopPid(p.pid, 15_000).then(() => clearPid(dirOf(p), p.name))] as [string, () => Promise<void>]),
      opts.log,
    );
  };
  const dirOf = (p: ManagedProcess) => p.logFile.slice(0, p.logFile.lastIndexOf('/'));
  const startOne = async (svc: Service) => {
    if ((await svc.probe()) === true) {
      opts.log?.info('already answering, reusing it', { service: svc.name, endpoint: svc.endpoint });
      return;
    }
    const spec = svc.prepare();
    const proc = startProcess({ ...spec, detached: opts.detached ?? false });
    started.push(proc);
    opts.log?.info('starting', { service: svc.name, endpoint: svc.endpoint, pid: proc.pid, log: proc.logFile });
    await waitUntil(svc.name, () => svc.probe(), { timeoutMs, proc });
    opts.log?.info('answering', { service: svc.name, endpoint: svc.endpoint });
  };
  const all = services(s);
  const find = (name: ServiceName): Service => {
    const svc = all.find((x) => x.name === name);
    if (!svc) throw new KafkalakeError(`the local stack has no ${name} here (kraft: ${s.kraft})`, { where: 'local stack' });
    return svc;
  };
  const stopService = async (name: ServiceName) => {
    find(name);
    const proc = started.find((p) => p.name === name);
    if (!proc) throw new KafkalakeError(`${name} was not started by this stack handle (found already running, or stopped): not stopping it`, { where: 'local stack' });
    opts.log?.info('stopping', { service: name, pid: proc.pid });
    await stopPid(proc.pid, 15_000);
    await proc.exited;
    started.splice(started.indexOf(proc), 1);
  };
  const startService = async (name: ServiceName) => {
    const svc = find(name);
    if (started.some((p) => p.name === name)) throw new KafkalakeError(`${name} is already running (pid ${started.find((p) => p.name === name)?.pid})`, { where: 'local stack' });
    await startOne(svc);
  };
  try {
    const [twin, ...kafkaSide] = all;
    // the twin starts beside ZooKeeper and Kafka, which start in order
    await Promise.all([
      startOne(twin as Service),
      (async () => {
        for (const svc of kafkaSide) await startOne(svc);
      })(),
    ]);
  } catch (err) {
    await stop().catch((e: unknown) => opts.log?.warn('cleanup after a failed start failed', { error: oneLine(e) }));
    throw err;
  }
  return { settings: s, brokers: brokerPorts(s).map((p) => `${s.host}:${p}`), awsEndpoint: `http://${s.host}:${s.awsPort}`, processes: started, stopService, startService, stop };
}

export interface ServiceStatus {
  name: string;
  endpoint: string;
  answers: boolean;
  pid: number | undefined;
}

export async function stackStatus(s: StackSettings): Promise<ServiceStatus[]> {
  return await Promise.all(
    services(s).map(async (svc) => {
      const pid = readPid(`${s.stateDir}/${svc.name}`, svc.name);
      return { name: svc.name, endpoint: svc.endpoint, answers: (await svc.probe()) === true, pid: pid !== undefined && alive(pid) ? pid : undefined };
    }),
  );
}

/** Stop what `stack start` left running (by pid file), Kafka first. */
export async function stopStack(s: StackSettings, log?: Logger): Promise<string[]> {
  const stopped: string[] = [];
  for (const svc of services(s).reverse()) {
    const dir = `${s.stateDir}/${svc.name}`;
    const pid = readPid(dir, svc.name);
    if (pid === undefined) continue;
    if (alive(pid)) {
      log?.info('stopping', { service: svc.name, pid });
      await stopPid(pid, 20_000);
      stopped.push(svc.name);
    }
    clearPid(dir, svc.name);
  }
  return stopped;
}

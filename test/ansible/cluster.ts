// The multi-host test bed of cluster.test.ts: six systemd hosts (the site test's debootstrap image,
// booted with systemd-nspawn, each with a disk that survives a power cut) on a private bridge inside a
// network namespace this test creates (netbed.sh), never this machine's own network. The control node's
// side of it (ansible-playbook, ssh, the AWS twin, the probes) runs in that namespace through nsenter.
//   kafka-1..3  ZooKeeper + Kafka each      10.77.0.11-13
//   app-1       producer + scheduler        10.77.0.21
//   app-2, -3   a consumer each (one group) 10.77.0.22-23
//   control     ansible, the AWS twin       10.77.0.1
import { type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../../daemons/lib/paths.js';
import {
  CACHE,
  controlNodeVars,
  type Inputs,
  offlineHostVars,
  parseShow,
  type PlaybookRun,
  prepareInputs,
  runPlaybook,
  sh,
  SSH_OPTIONS,
  startTwin,
  stopChild,
  waitFor,
} from './host.js';

const HERE = path.join(PROJECT_ROOT, 'test', 'ansible');
const TESTHOST = path.join(HERE, 'testhost.sh');
const NETBED = path.join(HERE, 'netbed.sh');

export const HOSTS = { 'kafka-1': 11, 'kafka-2': 12, 'kafka-3': 13, 'app-1': 21, 'app-2': 22, 'app-3': 23 } as const;
export type HostName = keyof typeof HOSTS;
export const KAFKA_HOSTS: HostName[] = ['kafka-1', 'kafka-2', 'kafka-3'];
export const APP_HOSTS: HostName[] = ['app-1', 'app-2', 'app-3'];
/** What the kafkalake role starts on each app host. */
export const DAEMONS_ON: Partial<Record<HostName, string[]>> = { 'app-1': ['producer', 'scheduler'], 'app-2': ['consumer'], 'app-3': ['consumer'] };

/** Heaps sized for a 2-core, 24 GiB machine running all six hosts (the roles' defaults size them from
 * the host's memory, which here is the whole machine's). */
export const TEST_HEAPS = { zookeeper_heap_mb: 128, kafka_heap_mb: 384 };

export class Cluster {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'kafkalake-cluster-'));
  /** the control node's network namespace; each host's is `${net}-${host}` */
  readonly net = `klc${process.pid}`;
  readonly subnet = '10.77.0';
  readonly awsPort = 4566;
  inputs!: Inputs;
  private moto: ChildProcess | undefined;
  private readonly running = new Set<HostName>();
  private netUp = false;

  /** The command prefix that runs a command on the control node (inside the test bed's network). */
  get control(): string[] {
    return ['nsenter', `--net=/run/netns/${this.net}`];
  }

  get awsEndpoint(): string {
    return `http://${this.subnet}.1:${this.awsPort}`;
  }

  ip(host: HostName): string {
    return `${this.subnet}.${HOSTS[host]}`;
  }

  brokers(): string[] {
    return KAFKA_HOSTS.map((h) => `${this.ip(h)}:9092`);
  }

  isRunning(host: HostName): boolean {
    return this.running.has(host);
  }

  /** Inputs, the network, the twin, then every host booted and answering ssh. */
  async start(): Promise<void> {
    this.inputs = await prepareInputs(this.dir);
    const hosts = Object.keys(HOSTS) as HostName[];
    await sh('sh', [NETBED, 'up', this.net, this.subnet, ...hosts.map((h) => `${h}=${HOSTS[h]}`)], { timeoutMs: 30_000 });
    this.netUp = true;
    writeFileSync(
      path.join(this.dir, 'hosts'),
      ['127.0.0.1 localhost', '::1 localhost', `${this.subnet}.1 control`, ...hosts.map((h) => `${this.ip(h)} ${h}`), ''].join('\n'),
    );
    this.moto = startTwin(`${this.subnet}.1`, this.awsPort, this.control);
    await waitFor('the AWS twin', 60_000, () => this.portOpen(`${this.subnet}.1`, this.awsPort));
    await Promise.all(hosts.map((h) => this.powerOn(h)));
  }

  /** Boot a host (first boot or after a power cut) and wait for its ssh. */
  async powerOn(host: HostName): Promise<void> {
    await sh('sh', [NETBED, 'heal', this.net, host], { timeoutMs: 10_000 });
    await sh(
      'sh',
      [TESTHOST, 'boot', path.join(CACHE, 'rootfs'), `${this.net}-${host}`, host, `${this.net}-${host}`, this.hostDir(host), `${this.inputs.key}.pub`, path.join(this.dir, 'hosts')],
      { timeoutMs: 60_000 },
    );
    this.running.add(host);
    await waitFor(`ssh on ${host}`, 90_000, async () => {
      try {
        return (await this.ssh(host, 'systemctl is-system-running || true', 10_000)).trim().length > 0;
      } catch {
        return false;
      }
    });
  }

  /** A power cut: the host falls silent on the network first (no reset for its peers' connections, as
   * when an instance dies), then every process of it is killed at once (its disk stays). */
  async powerOff(host: HostName): Promise<void> {
    await sh('sh', [NETBED, 'cut', this.net, host], { timeoutMs: 10_000 });
    await sh('sh', [TESTHOST, 'kill', path.join(this.hostDir(host), 'run')], { timeoutMs: 30_000 });
    this.running.delete(host);
  }

  async stop(): Promise<void> {
    await Promise.all(
      (Object.keys(HOSTS) as HostName[]).map(async (h) => {
        await sh('sh', [TESTHOST, 'kill', path.join(this.hostDir(h), 'run')], { timeoutMs: 30_000 }).catch(() => undefined);
        await sh('sh', [TESTHOST, 'destroy', this.hostDir(h)], { timeoutMs: 60_000 }).catch(() => undefined);
      }),
    );
    this.running.clear();
    await stopChild(this.moto);
    if (this.netUp) await sh('sh', [NETBED, 'down', this.net], { timeoutMs: 30_000 }).catch(() => undefined);
    this.netUp = false;
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** A shell command on a host, as root, over ssh from the control node. */
  async ssh(host: HostName, command: string, timeoutMs = 60_000): Promise<string> {
    return await sh(this.control[0]!, [...this.control.slice(1), 'ssh', '-i', this.inputs.key, ...SSH_OPTIONS, `root@${this.ip(host)}`, command], { timeoutMs });
  }

  async show(host: HostName, unit: string, props: string[]): Promise<Record<string, string>> {
    return parseShow(await this.ssh(host, `systemctl show ${unit} -p ${props.join(',')}`));
  }

  async journal(host: HostName, unit: string, lines = 40): Promise<string> {
    return await this.ssh(host, `journalctl -u ${unit} -o cat --no-pager -n ${lines}`).catch((e: Error) => e.message);
  }

  /**
   * A ZooKeeper four-letter word, answered by the host's ZooKeeper at its client port, asked from the
   * control node over the test bed's network as a ZooKeeper client asks (not over ssh: a login on a host
   * busy taking over the brokers' work once took longer than 15 s, again and again, while its ZooKeeper
   * answered). The connection and the answer are bounded: a server that does not answer says so.
   */
  async zk(host: HostName, word: 'srvr' | 'mntr' | 'ruok'): Promise<string> {
    const ask = `exec 3<>/dev/tcp/${this.ip(host)}/2181 && printf ${word} >&3 && cat <&3`;
    return await sh(this.control[0]!, [...this.control.slice(1), 'timeout', '8', 'bash', '-c', ask], { timeoutMs: 15_000 }).catch(
      (e: Error) => `no answer from ${host}:2181 within 8 s (${e.message.slice(0, 100)})`,
    );
  }

  /** Run a probe (cluster-probe.ts) on the control node and parse its JSON answer. */
  async probe<T>(command: string, args: Record<string, unknown>, timeoutMs = 120_000): Promise<T> {
    const script = path.join(PROJECT_ROOT, 'dist', 'test', 'ansible', 'cluster-probe.js');
    const out = await sh(this.control[0]!, [...this.control.slice(1), process.execPath, script, command, JSON.stringify(args)], { timeoutMs });
    return JSON.parse(out) as T;
  }

  /** The inventory of the test bed (hostVars: extra vars for every test host), written to a file. */
  inventory(hostVars: Record<string, unknown>, localVars: Record<string, unknown>, perHost: Partial<Record<HostName, Record<string, unknown>>> = {}): string {
    const file = path.join(this.dir, 'inventory.json');
    const vars = (h: HostName) => ({
      ansible_host: this.ip(h),
      ...offlineHostVars(this.inputs, this.awsEndpoint),
      ...TEST_HEAPS,
      ...hostVars,
      ...(DAEMONS_ON[h] ? { kafkalake_daemons: DAEMONS_ON[h] } : {}),
      ...perHost[h],
    });
    const group = (hosts: HostName[]) => ({ hosts: Object.fromEntries(hosts.map((h) => [h, {}])) });
    const inv = {
      all: {
        hosts: { localhost: { ...controlNodeVars(this.inputs, this.awsEndpoint), ...localVars }, ...Object.fromEntries((Object.keys(HOSTS) as HostName[]).map((h) => [h, vars(h)])) },
        children: { zookeeper: group(KAFKA_HOSTS), kafka: group(KAFKA_HOSTS), kafkalake: group(APP_HOSTS) },
      },
    };
    writeFileSync(file, JSON.stringify(inv, null, 2));
    return file;
  }

  async playbook(inventory: string, args: string[] = [], timeoutMs = 20 * 60_000): Promise<PlaybookRun> {
    return await runPlaybook(inventory, args, timeoutMs, this.control);
  }

  private hostDir(host: HostName): string {
    return path.join(this.dir, 'hosts.d', host);
  }

  private async portOpen(host: string, port: number): Promise<boolean> {
    try {
      await sh(this.control[0]!, [...this.control.slice(1), 'bash', '-c', `exec 3<>/dev/tcp/${host}/${port}`], { timeoutMs: 5000 });
      return true;
    } catch {
      return false;
    }
  }
}

// The ansible test host and its inputs, for site.test.ts: the cached debootstrap image, the offline
// archives (Kafka layout from the Maven jars, Node.js), a frozen copy of the build, the AWS twin, an
// ephemeral systemd-nspawn boot with sshd on a free loopback port, and ssh/ansible-playbook runners.
// Every command runs with a timeout; stop() always powers the container off and removes what it made.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../daemons/lib/paths.js';
import { freePort, portOpen } from '../../daemons/local/ports.js';

const run = promisify(execFile);
const HERE = path.join(PROJECT_ROOT, 'test', 'ansible');
export const CACHE = path.join(PROJECT_ROOT, '.kafkalake', 'testhost');
export const ANSIBLE_DIR = path.join(PROJECT_ROOT, 'ansible');
const VENV_PY = path.join(PROJECT_ROOT, '.kafkalake', 'venv', 'bin', 'python');

export interface Archives {
  kafka_version: string;
  kafka_archive: string;
  kafka_sha256: string;
  node_version: string;
  node_archive: string;
  node_sha256: string;
}

export interface Recap {
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
}

export interface PlaybookRun {
  code: number;
  output: string;
  recap: Record<string, Recap>;
}

/** Run a command; resolve with its output; reject with one line naming the command and its stderr tail. */
export async function sh(cmd: string, args: string[], opts: { timeoutMs: number; env?: NodeJS.ProcessEnv; cwd?: string }): Promise<string> {
  try {
    const { stdout } = await run(cmd, args, { timeout: opts.timeoutMs, maxBuffer: 64 << 20, env: opts.env ?? process.env, cwd: opts.cwd });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string; killed?: boolean };
    const tail = `${e.stderr ?? ''}${e.stdout ?? ''}`.trim().split('\n').slice(-15).join('\n');
    throw new Error(`${path.basename(cmd)} ${args.slice(0, 3).join(' ')} failed${e.killed ? ` (timed out after ${opts.timeoutMs} ms)` : ''}: ${tail || e.message}`);
  }
}

/** `systemctl show -p A,B` output as a record. */
export function parseShow(out: string): Record<string, string> {
  return Object.fromEntries(out.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

export function parseRecap(output: string): Record<string, Recap> {
  const recap: Record<string, Recap> = {};
  const re = /^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/gm;
  for (const m of output.matchAll(re)) {
    recap[m[1] ?? ''] = { ok: Number(m[2]), changed: Number(m[3]), unreachable: Number(m[4]), failed: Number(m[5]) };
  }
  return recap;
}

/** Which of the tools the test drives are missing here (the test fails naming them: never a silent skip). */
export async function missingPrerequisites(): Promise<string[]> {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root (debootstrap and systemd-nspawn need it)');
  for (const tool of ['debootstrap', 'systemd-nspawn', 'ansible-playbook', 'ssh', 'ssh-keygen']) {
    try {
      await sh('sh', ['-c', `command -v ${tool}`], { timeoutMs: 5000 });
    } catch {
      missing.push(tool);
    }
  }
  if (!existsSync(VENV_PY)) missing.push(`${VENV_PY} (npm run setup)`);
  if (!existsSync(path.join(PROJECT_ROOT, 'dist', 'daemons', 'cli', 'main.js'))) missing.push('dist/ (npx tsc -p .)');
  return missing;
}

/** The offline inputs every test host is provisioned from. */
export interface Inputs {
  archives: Archives;
  /** the control node's ssh key (private; .pub beside it) */
  key: string;
  /** the frozen build the kafkalake role ships */
  src: string;
}

/** The cached image and archives, a frozen copy of the build and a fresh ssh key, in dir. */
export async function prepareInputs(dir: string): Promise<Inputs> {
  await sh('sh', [path.join(HERE, 'build-image.sh'), CACHE], { timeoutMs: 10 * 60_000 });
  const json = await sh('sh', [path.join(HERE, 'make-archives.sh'), path.join(CACHE, 'archives'), path.join(PROJECT_ROOT, '.kafkalake', 'lib')], {
    timeoutMs: 5 * 60_000,
  });
  const src = path.join(dir, 'src');
  await sh('sh', [path.join(HERE, 'snapshot-source.sh'), PROJECT_ROOT, src], { timeoutMs: 2 * 60_000 });
  const key = path.join(dir, 'id_ed25519');
  await sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key], { timeoutMs: 10_000 });
  return { archives: JSON.parse(json) as Archives, key, src };
}

/** The AWS twin on host:port, with the AWS-managed IAM policies loaded (the Glue role attaches
 * AWSGlueServiceRole); `prefix` runs it elsewhere (nsenter into the test bed's network). */
export function startTwin(host: string, port: number, prefix: string[] = []): ChildProcess {
  const moto = path.join(PROJECT_ROOT, '.kafkalake', 'venv', 'bin', 'moto_server');
  const [cmd, ...args] = [...prefix, moto, '-H', host, '-p', String(port)];
  return spawn(cmd, args, { env: { ...process.env, MOTO_IAM_LOAD_MANAGED_POLICIES: 'true', PYTHONUNBUFFERED: '1' }, stdio: 'ignore' });
}

export async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  if (child.exitCode === null) child.kill('SIGKILL');
}

export async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${what} not ready within ${timeoutMs} ms`);
}

/** The host vars every test host gets: ssh, and the offline inputs instead of downloads. */
export function offlineHostVars(inputs: Inputs, awsEndpoint: string): Record<string, unknown> {
  return {
    ansible_user: 'root',
    ansible_python_interpreter: '/usr/bin/python3',
    ansible_ssh_private_key_file: inputs.key,
    ansible_ssh_common_args: '-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR',
    java_update_cache: false,
    kafka_archive_src: inputs.archives.kafka_archive,
    kafka_archive_checksum: `sha256:${inputs.archives.kafka_sha256}`,
    kafkalake_source_dir: inputs.src,
    kafkalake_build: false,
    // cached across runs: an unchanged build is not packed again (build-bundle.sh's fingerprint)
    kafkalake_bundle_path: path.join(CACHE, 'bundle', 'kafkalake.tar.gz'),
    kafkalake_node_version: inputs.archives.node_version,
    kafkalake_node_archive_src: inputs.archives.node_archive,
    kafkalake_node_archive_checksum: `sha256:${inputs.archives.node_sha256}`,
    kafkalake_aws_endpoint: awsEndpoint,
    kafkalake_aws_region: 'us-east-1',
  };
}

/** The vars of localhost, which runs the aws_resources play against the twin. */
export function controlNodeVars(inputs: Inputs, awsEndpoint: string): Record<string, unknown> {
  return {
    ansible_connection: 'local',
    // the venv has boto3/botocore (the system ansible's Python does not)
    ansible_python_interpreter: VENV_PY,
    aws_resources_endpoint_url: awsEndpoint,
    aws_resources_region: 'us-east-1',
    aws_resources_access_key: 'ansible-test-key',
    aws_resources_secret_key: 'ansible-test-secret',
    aws_resources_source_dir: inputs.src,
    aws_resources_named_queries: [path.join(HERE, 'fixtures', 'daily_close.sql')],
  };
}

/** The real ansible-playbook site.yml (`prefix` runs it elsewhere: nsenter into the test bed's network). */
export async function runPlaybook(inventory: string, args: string[], timeoutMs: number, prefix: string[] = []): Promise<PlaybookRun> {
  return await new Promise((resolve, reject) => {
    const [cmd, ...cmdArgs] = [...prefix, 'ansible-playbook', '-i', inventory, 'site.yml', ...args];
    const child = spawn(cmd!, cmdArgs, {
      cwd: ANSIBLE_DIR,
      env: { ...process.env, ANSIBLE_CONFIG: path.join(ANSIBLE_DIR, 'ansible.cfg'), ANSIBLE_FORCE_COLOR: '0', ANSIBLE_NOCOLOR: '1', ANSIBLE_DEPRECATION_WARNINGS: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ansible-playbook did not finish within ${timeoutMs} ms; last output:\n${output.split('\n').slice(-30).join('\n')}`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, output, recap: parseRecap(output) });
    });
  });
}

export const SSH_OPTIONS = ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5'];

export class TestHost {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'kafkalake-ansible-'));
  readonly runDir = path.join(this.dir, 'run');
  readonly name = `kl-ansible-${process.pid}`;
  sshPort = 0;
  zookeeperPort = 0;
  kafkaPort = 0;
  awsPort = 0;
  inputs!: Inputs;
  private moto: ChildProcess | undefined;
  private booted = false;

  get awsEndpoint(): string {
    return `http://127.0.0.1:${this.awsPort}`;
  }

  get archives(): Archives {
    return this.inputs.archives;
  }

  /** Image (cached), archives (cached), frozen build, twin, boot, ssh up. */
  async start(): Promise<void> {
    this.inputs = await prepareInputs(this.dir);
    [this.sshPort, this.zookeeperPort, this.kafkaPort, this.awsPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    this.moto = startTwin('127.0.0.1', this.awsPort);
    await waitFor('the AWS twin', 60_000, () => portOpen('127.0.0.1', this.awsPort, 500));

    await sh('sh', [path.join(HERE, 'testhost.sh'), 'start', path.join(CACHE, 'rootfs'), this.name, String(this.sshPort), `${this.inputs.key}.pub`, this.runDir], {
      timeoutMs: 60_000,
    });
    this.booted = true;
    await waitFor('ssh on the test host', 60_000, async () => {
      try {
        return (await this.ssh('systemctl is-system-running || true', 10_000)).trim().length > 0;
      } catch {
        return false;
      }
    });
  }

  async stop(): Promise<void> {
    if (this.booted) {
      await sh('sh', [path.join(HERE, 'testhost.sh'), 'stop', this.runDir], { timeoutMs: 60_000 }).catch(() => undefined);
      this.booted = false;
    }
    await stopChild(this.moto);
    rmSync(this.dir, { recursive: true, force: true });
  }

  async waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
    await waitFor(what, timeoutMs, check);
  }

  sshArgs(): string[] {
    return ['-i', this.inputs.key, '-p', String(this.sshPort), ...SSH_OPTIONS, 'root@127.0.0.1'];
  }

  /** A shell command on the test host, as root. */
  async ssh(command: string, timeoutMs = 60_000): Promise<string> {
    return await sh('ssh', [...this.sshArgs(), command], { timeoutMs });
  }

  /** `systemctl show` properties of a unit on the test host. */
  async show(unit: string, props: string[]): Promise<Record<string, string>> {
    return parseShow(await this.ssh(`systemctl show ${unit} -p ${props.join(',')}`));
  }

  async journal(unit: string, lines = 40): Promise<string> {
    return await this.ssh(`journalctl -u ${unit} -o cat --no-pager -n ${lines}`).catch((e: Error) => e.message);
  }

  /** Write the inventory for this host and localhost and return its path (the test's offline inputs, plus extra vars). */
  inventory(extraHostVars: Record<string, unknown> = {}, extraLocalVars: Record<string, unknown> = {}): string {
    const file = path.join(this.dir, 'inventory.json');
    const testhost = {
      ansible_host: '127.0.0.1',
      ansible_port: this.sshPort,
      ...offlineHostVars(this.inputs, this.awsEndpoint),
      zookeeper_listen_address: '127.0.0.1',
      zookeeper_client_port: this.zookeeperPort,
      zookeeper_heap_mb: 128,
      kafka_listen_address: '127.0.0.1',
      kafka_port: this.kafkaPort,
      kafka_heap_mb: 384,
      ...extraHostVars,
    };
    const localhost = { ...controlNodeVars(this.inputs, this.awsEndpoint), ...extraLocalVars };
    const inv = {
      all: {
        hosts: { testhost, localhost },
        children: { zookeeper: { hosts: { testhost: {} } }, kafka: { hosts: { testhost: {} } }, kafkalake: { hosts: { testhost: {} } } },
      },
    };
    writeFileSync(file, JSON.stringify(inv, null, 2));
    return file;
  }

  /** The real ansible-playbook site.yml against this host (and localhost for aws_resources). */
  async playbook(inventory: string, args: string[] = [], timeoutMs = 8 * 60_000): Promise<PlaybookRun> {
    return await runPlaybook(inventory, args, timeoutMs);
  }

  /** Which AWS resources exist in the twin (test/ansible/check-aws.py, boto3). */
  async awsResources(bucket: string): Promise<Record<string, unknown>> {
    const out = await sh(VENV_PY, [path.join(HERE, 'check-aws.py'), this.awsEndpoint, 'us-east-1', bucket], { timeoutMs: 60_000 });
    return JSON.parse(out) as Record<string, unknown>;
  }
}

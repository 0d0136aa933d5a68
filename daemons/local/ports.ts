import { readFileSync } from 'node:fs';
import net from 'node:net';

/** Whether host:port can be bound right now (then released). */
function bindable(host: string, port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(undefined));
    srv.listen({ port, host, exclusive: true }, () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : undefined));
    });
  });
}

/** The kernel's ephemeral range (outgoing connections take their local port from it). */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 2048 ? low : 32768;
  } catch {
    return 32768;
  }
}

/**
 * A TCP port free on host right now, taken below the kernel's ephemeral range when one is free there: a
 * port from that range (what listening on port 0 gives) can be taken by any outgoing connection between
 * this call and the server's start, which a stack starting its services one after another (a third broker
 * starts half a minute after its port was chosen) while other tests connect lost to. Falls back to port 0.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const low = 10_000;
  const high = ephemeralLow();
  for (let i = 0; i < 50 && high > low; i++) {
    const port = await bindable(host, low + Math.floor(Math.random() * (high - low)));
    if (port !== undefined) return port;
  }
  const any = await bindable(host, 0);
  if (any === undefined) throw new Error(`no free TCP port on ${host}`);
  return any;
}

/** Whether something accepts TCP connections on host:port within timeoutMs. */
export async function portOpen(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return await new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

// A small loopback TCP proxy that can be switched off and on, to make a service "go down" without
// stopping it. The AWS twin (moto) keeps its state in memory and loses all of it when its process
// restarts, so an outage is simulated here instead: while off, every open connection is cut and new ones
// are accepted and closed at once (the client sees a reset, as with a dead endpoint behind a load balancer).
import net from 'node:net';

export interface TcpProxy {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  off(): void;
  on(): void;
  isOn(): boolean;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let up = true;
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    if (!up) {
      client.destroy();
      return;
    }
    const upstream = net.connect(target.port, target.host);
    open.add(client);
    open.add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    off() {
      up = false;
      for (const s of open) s.destroy();
      open.clear();
    },
    on() {
      up = true;
    },
    isOn: () => up,
    close() {
      up = false;
      for (const s of open) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

import net from 'node:net';

interface Pair {
  client: net.Socket;
  upstream: net.Socket;
  /** Writes held back while the proxy hangs, in arrival order. */
  held: Array<() => void>;
}

/**
 * A TCP proxy between the service and a real server that a test can break the way networks and databases break:
 * `cut()` drops every connection and refuses new ones (the server stopped), `hang()` keeps connections open but
 * passes nothing (a partition or a frozen server), `restore()` ends either.
 */
export class TcpProxy {
  private server?: net.Server;
  private readonly pairs = new Set<Pair>();
  private hanging = false;
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async start(): Promise<void> {
    await this.listen(0);
  }

  /** Drops every connection and refuses new ones until `restore()`. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    for (const pair of this.pairs) {
      pair.client.destroy();
      pair.upstream.destroy();
    }
    this.pairs.clear();
    await closed;
  }

  /** Keeps connections (and accepts new ones) but forwards nothing until `restore()`. */
  hang(): void {
    this.hanging = true;
  }

  async restore(): Promise<void> {
    this.hanging = false;
    for (const pair of this.pairs) for (const write of pair.held.splice(0)) write();
    if (!this.server) await this.listen(this.port);
  }

  async stop(): Promise<void> {
    await this.cut();
  }

  private listen(port: number): Promise<void> {
    const server = net.createServer((client) => this.accept(client));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        this.server = server;
        this.port = (server.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }

  private accept(client: net.Socket): void {
    const upstream = net.connect(this.target.port, this.target.host);
    const pair: Pair = { client, upstream, held: [] };
    this.pairs.add(pair);
    const forward = (from: net.Socket, to: net.Socket) =>
      from.on('data', (chunk) => {
        if (this.hanging) pair.held.push(() => to.write(chunk));
        else to.write(chunk);
      });
    forward(client, upstream);
    forward(upstream, client);
    const close = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      socket.on('error', close);
      socket.on('close', close);
    }
  }
}

/** A started proxy in front of the PostgreSQL database at `databaseUrl`, and that database's URL through it. */
export async function proxiedDatabase(databaseUrl: string): Promise<{ proxy: TcpProxy; url: string }> {
  const target = new URL(databaseUrl);
  const proxy = new TcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  await proxy.start();
  const proxied = new URL(databaseUrl);
  proxied.port = String(proxy.port);
  return { proxy, url: proxied.toString() };
}

import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a real service (Redis), which a test can cut and restore to simulate an outage without
 * touching the service other tests use.
 */
export class TcpProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private hold: { text: string; heard: () => void } | undefined;
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  static forUrl(url: string): TcpProxy {
    const u = new URL(url);
    return new TcpProxy(u.hostname, Number(u.port || 6379));
  }

  /** The target's URL with this proxy's address. */
  url(scheme = 'redis'): string {
    return `${scheme}://127.0.0.1:${this.port}`;
  }

  /** Starts accepting (on the same port as before, after a cut). */
  async start(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.targetPort, this.targetHost);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.on('data', (chunk: Buffer) => {
        if (this.hold && chunk.toString('latin1').toLowerCase().includes(this.hold.text)) {
          const { heard } = this.hold;
          this.hold = undefined;
          heard();
          return;
        }
        upstream.write(chunk);
      });
      upstream.pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (address && typeof address === 'object') this.port = address.port;
    this.server = server;
  }

  /**
   * Swallows the next bytes a client sends that contain `text` (any case; RESP command names are plain text): the
   * command never reaches the service and its answer never comes, as with a service that stalls. Resolves when that
   * happened.
   */
  holdNext(text: string): Promise<void> {
    return new Promise((heard) => {
      this.hold = { text: text.toLowerCase(), heard };
    });
  }

  /** Refuses new connections and drops every open one: the service is "down". */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

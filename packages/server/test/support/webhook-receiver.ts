import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';

export interface ReceivedRequest {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A real local HTTP server that records webhook deliveries and answers with the statuses it is told to. */
export class WebhookReceiver {
  readonly requests: ReceivedRequest[] = [];
  /** Statuses to answer, in order; once used up, 200. */
  statuses: number[] = [];
  /** When true, requests are recorded but never answered (a stuck receiver). */
  hang = false;
  private waiters: Array<() => void> = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<WebhookReceiver> {
    let receiver: WebhookReceiver | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        receiver!.requests.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        if (!receiver!.hang) {
          res.statusCode = receiver!.statuses.shift() ?? 200;
          res.end();
        }
        for (const wake of receiver!.waiters.splice(0)) wake();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const address = server.address();
    if (!address || typeof address === 'string') throw new Error('receiver did not bind');
    receiver = new WebhookReceiver(server, `http://127.0.0.1:${address.port}/hooks/aim`);
    return receiver;
  }

  /** Resolves once at least `count` requests arrived (deliveries are asynchronous by design). */
  async waitFor(count: number, timeoutMs = 5000): Promise<ReceivedRequest[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.requests.length < count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} webhook requests, got ${this.requests.length}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    return this.requests;
  }

  /** Gives deliveries that should not happen a moment to show up, so a test can assert their absence. */
  async settle(ms = 200): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, ms));
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { AIMClient, InvalidRequestError, NetworkError, RateLimitedError } from '@aim/sdk';

/** A real HTTP server on loopback whose answers each test scripts. */
async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** What the transport does with answers a server (or something in front of it) should not give. */
describe('SDK transport: hostile or broken answers', () => {
  const received: string[] = [];
  let elsewhere: { server: Server; url: string };
  before(async () => {
    elsewhere = await listen((req, res) => {
      received.push(`${req.method} ${req.url} ${String(req.headers['x-api-key'] ?? '')}`);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"agents":[]}');
    });
  });
  after(() => elsewhere.server.close());

  it('does not follow a redirect to another origin with the API key', async () => {
    const redirecting = await listen((_req, res) => res.writeHead(307, { location: `${elsewhere.url}/api/v1/agents` }).end());
    try {
      const client = new AIMClient({ baseUrl: redirecting.url, auth: { apiKey: 'ak_live_would_leak' } });
      await assert.rejects(client.agents.list(), (e) => e instanceof NetworkError && e.code === 'network_error');
      assert.deepEqual(received, [], 'the other origin heard nothing');
    } finally {
      redirecting.server.close();
    }
  });

  it('a request path that would leave the base URL\'s origin is refused before anything is sent', async () => {
    // "http://127.0.0.1" + ":<port>/…" names another port: the path must not change the origin the credential goes to.
    const port = new URL(elsewhere.url).port;
    const client = new AIMClient({ baseUrl: 'http://127.0.0.1', auth: { apiKey: 'ak_live_would_leak' } });
    for (const path of [`:${port}/api/v1/agents`, `.localhost:${port}/api/v1/agents`, 'api/v1/agents']) {
      await assert.rejects(client.request('GET', path), (e) => e instanceof InvalidRequestError && e.status === 0, path);
    }
    assert.deepEqual(received, [], 'the other origin heard nothing');
  });

  it('one answer with an absurd RateLimit-Reset refuses one call locally, not every call after it', async () => {
    let served = 0;
    const limited = await listen((_req, res) => {
      served += 1;
      const headers = { 'content-type': 'application/json', 'ratelimit-limit': '100', 'ratelimit-remaining': served === 1 ? '0' : '99', 'ratelimit-reset': served === 1 ? '99999999999' : '60' };
      res.writeHead(200, headers).end('{"agents":[],"total":0,"next_cursor":null}');
    });
    try {
      const client = new AIMClient({ baseUrl: limited.url, auth: { apiKey: 'ak_live_x' } });
      await client.agents.list();
      await assert.rejects(client.agents.list(), RateLimitedError, 'told once, without asking');
      assert.equal(served, 1);
      await client.agents.list();
      assert.equal(served, 2, 'then the server is asked again');
    } finally {
      limited.server.close();
    }
  });

  it('a Retry-After given as an HTTP date (a proxy\'s) is read against the client\'s clock, not the machine\'s', async () => {
    // The client's clock runs an hour behind the machine's; the proxy asks for 20 seconds by that clock.
    const now = Date.now() - 3_600_000;
    const until = new Date(now + 20_000).toUTCString();
    let served = 0;
    const proxy = await listen((_req, res) => {
      served += 1;
      if (served === 1) res.writeHead(429, { 'content-type': 'application/json', 'retry-after': until }).end('{"error":"rate_limited"}');
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"agents":[],"total":0,"next_cursor":null}');
    });
    try {
      const waits: number[] = [];
      const client = new AIMClient({ baseUrl: proxy.url, auth: { apiKey: 'ak_live_x' }, now: () => now, sleep: async (ms) => void waits.push(ms) });
      await client.agents.list();
      assert.equal(served, 2);
      assert.ok(waits.length === 1 && waits[0]! >= 19_000 && waits[0]! <= 20_000, `waited ${waits.join()} ms`);
    } finally {
      proxy.server.close();
    }
  });

  it('a server that never answers fails the call after timeoutMs', async () => {
    const silent = await listen(() => undefined);
    try {
      const client = new AIMClient({ baseUrl: silent.url, auth: { apiKey: 'ak_live_x' }, timeoutMs: 100 });
      await assert.rejects(client.agents.list(), (e) => e instanceof NetworkError && e.code === 'timeout');
    } finally {
      silent.server.closeAllConnections();
      silent.server.close();
    }
  });

  it('an answer that starts and never ends fails after timeoutMs too', async () => {
    const trickling = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"agents":');
    });
    try {
      const client = new AIMClient({ baseUrl: trickling.url, auth: { apiKey: 'ak_live_x' }, timeoutMs: 100 });
      await assert.rejects(client.agents.list(), (e) => e instanceof NetworkError && e.code === 'timeout');
    } finally {
      trickling.server.closeAllConnections();
      trickling.server.close();
    }
  });
});

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AgentSuspendedError, ConflictError, NetworkError, type AgentKeyView, type AgentView } from '@aim/sdk';
import { identityFile, secure } from '@aim/sdk/node';
import { startLiveServer, type LiveServer } from './live-server.js';

/**
 * An HTTP proxy to `target` that, for requests `drop` picks, lets the server answer and then cuts the client's
 * connection instead of passing the answer on: the request committed, the caller never hears about it.
 */
async function lossyProxy(target: string, drop: (request: IncomingMessage) => boolean): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const headers = Object.fromEntries(
      Object.entries(request.headers).filter(([name]) => !['host', 'connection', 'content-length', 'transfer-encoding'].includes(name)),
    ) as Record<string, string>;
    const answer = await fetch(target + request.url, { method: request.method!, headers, ...(chunks.length > 0 && { body: Buffer.concat(chunks) }) });
    const body = Buffer.from(await answer.arrayBuffer());
    if (drop(request)) {
      request.socket.destroy();
      return;
    }
    response.writeHead(answer.status, Object.fromEntries([...answer.headers].filter(([name]) => !['content-length', 'content-encoding', 'connection'].includes(name))));
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('an identity file shared by several agent objects (processes)', () => {
  let aim: LiveServer;
  let apiKey: string;
  let dir: string;
  before(async () => {
    aim = await startLiveServer();
    apiKey = (await aim.adminClient.apiKeys.create({ name: 'shared-identity' })).key;
    dir = mkdtempSync(join(tmpdir(), 'aim-shared-'));
  });
  after(async () => {
    await aim?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const keysOf = (agentId: string) => aim.adminClient.request<{ keys: AgentKeyView[] }>('GET', `/api/v1/agents/${agentId}/keys`).then((r) => r.keys);
  const activeKey = async (agentId: string) => (await keysOf(agentId)).find((k) => k.status === 'active')!;
  const storedPublicKey = async (name: string) => (await import('@aim/sdk')).Ed25519KeyPair.fromPem((await identityFile(name, dir).read())!.private_key).then((k) => k.publicKey);

  it("a rotation started from a stale copy adopts the key another one rotated to, and never writes the stale key back", async () => {
    const name = `stale-rotation-${Date.now()}`;
    const a = await secure(name, { dir, baseUrl: aim.url, registerWith: { apiKey }, capabilities: ['search'] });
    const b = await secure(name, { dir });
    const original = b.publicKey;

    assert.notEqual(await a.rotateKey(), null);
    // b still holds the original key, which can no longer sign a rotation: it takes a's key from the file instead.
    assert.equal(await b.rotateKey(), null);
    assert.notEqual(b.publicKey, original);
    assert.equal(b.publicKey, a.publicKey);

    const active = await activeKey(a.id);
    assert.equal(await storedPublicKey(name), active.public_key, 'the file holds the key the server has active');
    assert.equal((await identityFile(name, dir).read())!.pending_private_key, undefined);
    assert.equal((await keysOf(a.id)).length, 2, 'one rotation');
    for (const agent of [a, b]) assert.equal((await agent.verifyAction('search', 'after')).key_id, active.key_id);
    assert.equal((await (await secure(name, { dir })).verifyAction('search', 'next process')).key_id, active.key_id);
  });

  it('an object still holding a key another one rotated away from picks up the new key once its own is refused', async () => {
    const name = `picks-up-${Date.now()}`;
    const a = await secure(name, { dir, baseUrl: aim.url, registerWith: { apiKey }, capabilities: ['search'] });
    const b = await secure(name, { dir });
    await b.verifyAction('search', 'before');
    const old = await activeKey(a.id);
    assert.notEqual(await a.rotateKey(), null);
    // The old key stops at once (an admin revokes it rather than waiting out the grace period).
    await aim.adminClient.request('POST', `/api/v1/agents/${a.id}/keys/${old.key_id}/revoke`);
    const decision = await b.verifyAction('search', 'after');
    assert.equal(decision.key_id, (await activeKey(a.id)).key_id);
    assert.equal(b.publicKey, a.publicKey);
    assert.equal((await keysOf(a.id)).length, 2, 'no rotation of its own');
  });

  it('two objects rotating at once: one rotation, the other adopts it, both sign with the key in the file', async () => {
    const name = `concurrent-rotation-${Date.now()}`;
    const a = await secure(name, { dir, baseUrl: aim.url, registerWith: { apiKey }, capabilities: ['search'] });
    const b = await secure(name, { dir });
    const answers = await Promise.all([a.rotateKey(), b.rotateKey()]);
    assert.equal(answers.filter((answer) => answer !== null).length, 1);
    assert.equal(a.publicKey, b.publicKey);

    const active = await activeKey(a.id);
    assert.equal(active.public_key, a.publicKey);
    assert.equal(await storedPublicKey(name), active.public_key);
    for (const agent of [a, b]) assert.equal((await agent.verifyAction('search', 'after')).key_id, active.key_id);
  });

  it('a refused rotation leaves the file as it found it: the same key, no pending one', async () => {
    const name = `refused-rotation-${Date.now()}`;
    const { id } = await secure(name, { dir, baseUrl: aim.url, registerWith: { apiKey }, capabilities: ['search'] });
    // Rotating through an admin's client, so the refusal comes from the rotation itself, not the agent's token.
    const agent = await secure(name, { dir, client: aim.adminClient });
    const before = await identityFile(name, dir).read();
    await aim.adminClient.agents.suspend(id);
    await assert.rejects(agent.rotateKey(), AgentSuspendedError);
    assert.deepEqual(await identityFile(name, dir).read(), before);
  });

  it('a registration whose answer was lost is finished by the next secure(): the same agent, no orphan', async () => {
    const name = `lost-answer-${Date.now()}`;
    const proxy = await lossyProxy(aim.url, (request) => request.method === 'POST' && request.url === '/api/v1/agents');
    try {
      await assert.rejects(secure(name, { dir, baseUrl: proxy.url, registerWith: { apiKey }, capabilities: ['search'] }), NetworkError);
    } finally {
      await proxy.close();
    }
    const { agents } = await aim.adminClient.agents.list({ q: name });
    const created = agents.filter((a: AgentView) => a.name === name);
    assert.equal(created.length, 1, 'the server did register it');
    assert.equal((await identityFile(name, dir).read())?.pending_registration, true, 'the key pair was saved before asking');

    const agent = await secure(name, { dir, baseUrl: aim.url, registerWith: { apiKey }, capabilities: ['search'] });
    assert.equal(agent.id, created[0]!.agent_id);
    assert.equal(agent.publicKey, created[0]!.public_key);
    assert.equal((await agent.verifyAction('search', 'recovered')).allowed, true);
    const stored = (await identityFile(name, dir).read())!;
    assert.equal(stored.agent_id, agent.id);
    assert.equal(stored.pending_registration, undefined);

    // Later processes load it with no credential at all.
    assert.equal((await (await secure(name, { dir })).verifyAction('search', 'later')).allowed, true);
  });

  it('a name another key holds is a conflict, and no other agent is adopted', async () => {
    const name = `taken-${Date.now()}`;
    const other = await aim.adminClient.agents.register({ name });
    await assert.rejects(secure(name, { dir, baseUrl: aim.url, registerWith: { apiKey } }), ConflictError);
    const { agents } = await aim.adminClient.agents.list({ q: name });
    assert.deepEqual(agents.filter((a: AgentView) => a.name === name).map((a) => a.agent_id), [other.id]);
    assert.notEqual((await identityFile(name, dir).read())?.agent_id, other.id);
  });
});

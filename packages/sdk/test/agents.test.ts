import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AIMClient, ActionDeniedError, Agent, type AgentKeyView } from '@aim/sdk';
import { identityFile, secure } from '@aim/sdk/node';
import { startLiveServer, type LiveServer } from './live-server.js';

const keysOf = (aim: LiveServer, agentId: string) =>
  aim.adminClient.request<{ keys: AgentKeyView[] }>('GET', `/api/v1/agents/${agentId}/keys`).then((r) => r.keys);

describe('SDK agents against a live server', () => {
  let aim: LiveServer;
  let apiKey: string;
  let dir: string;
  before(async () => {
    aim = await startLiveServer();
    apiKey = (await aim.adminClient.apiKeys.create({ name: 'agents-test' })).key;
    dir = mkdtempSync(join(tmpdir(), 'aim-credentials-'));
  });
  after(async () => {
    await aim?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('register() generates the key pair locally: only the public key is sent, the server holds no private key', async () => {
    const client = new AIMClient({ baseUrl: aim.url, auth: { apiKey } });
    const agent = await client.agents.register({ name: `local-keys-${Date.now()}`, capabilities: ['files:*'] });
    const [key] = await keysOf(aim, agent.id);
    assert.equal(key!.public_key, agent.publicKey);
    assert.match(agent.identity.private_key, /^-----BEGIN PRIVATE KEY-----/);
    const view = await client.agents.get(agent.id);
    assert.equal(JSON.stringify(view).includes('PRIVATE'), false);
    assert.equal((await agent.verifyAction('files:read', '/tmp/report.txt')).allowed, true);
  });

  it('verifyAction throws ActionDeniedError when the agent lacks the capability, or returns the decision on request', async () => {
    const agent = await new AIMClient({ baseUrl: aim.url, auth: { apiKey } }).agents.register({ name: `denied-${Date.now()}`, capabilities: ['search'] });
    await assert.rejects(agent.verifyAction('payments:create', 'invoice/1'), (e) => e instanceof ActionDeniedError && e.decision.reason === 'capability_missing');
    const decision = await agent.verifyAction('payments:create', 'invoice/1', { throwOnDeny: false });
    assert.equal(decision.allowed, false);
    assert.equal(decision.verified, true);
  });

  it('secure(name) creates the identity once (file 0600), then loads it', async () => {
    const name = `secure-${Date.now()}`;
    const first = await secure(name, { dir, baseUrl: aim.url, registerWith: { apiKey }, capabilities: ['search'] });
    const file = join(dir, `${name}.json`);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const again = await secure(name, { dir });
    assert.equal(again.id, first.id);
    assert.equal((await again.verifyAction('search', 'docs/handbook')).allowed, true);
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temporary files left');
  });

  it('secure() refuses an identity file that others can read', async () => {
    const name = `leaky-${Date.now()}`;
    await secure(name, { dir, baseUrl: aim.url, registerWith: { apiKey } });
    const file = join(dir, `${name}.json`);
    const { chmodSync } = await import('node:fs');
    chmodSync(file, 0o644);
    await assert.rejects(secure(name, { dir }), /readable by others/);
  });

  it('secure() refuses a credentials directory others can write to, for reading and for writing', async () => {
    const { chmodSync, mkdtempSync } = await import('node:fs');
    const shared = mkdtempSync(join(dir, 'shared-'));
    const name = `shared-${Date.now()}`;
    await secure(name, { dir: shared, baseUrl: aim.url, registerWith: { apiKey } });
    chmodSync(shared, 0o777);
    await assert.rejects(secure(name, { dir: shared }), /writable by others/, 'an identity there could have been swapped');
    await assert.rejects(secure(`${name}-new`, { dir: shared, baseUrl: aim.url, registerWith: { apiKey } }), /writable by others/);
    chmodSync(shared, 0o1777);
    assert.equal((await secure(name, { dir: shared })).id.length > 0, true, 'sticky, like /tmp: no one else can swap the file');
  });

  it('secure() reads AIM_URL and AIM_API_KEY from the environment the first time', async () => {
    const saved = { url: process.env.AIM_URL, key: process.env.AIM_API_KEY };
    process.env.AIM_URL = aim.url;
    process.env.AIM_API_KEY = apiKey;
    try {
      const agent = await secure(`env-${Date.now()}`, { dir, capabilities: ['search'] });
      assert.equal((await agent.verifyAction('search', 'x')).allowed, true);
    } finally {
      for (const [k, v] of [['AIM_URL', saved.url], ['AIM_API_KEY', saved.key]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('an interrupted rotation is settled on load: the pending key is adopted only if the server took it', async () => {
    const name = `pending-${Date.now()}`;
    const agent = await secure(name, { dir, baseUrl: aim.url, registerWith: { apiKey }, capabilities: ['search'] });
    const file = identityFile(name, dir);
    const before = (await file.read())!;

    // A pending key the server never saw: the old key stays.
    const stray = await (await import('@aim/sdk')).Ed25519KeyPair.generate();
    writeFileSync(file.path, JSON.stringify({ ...before, pending_private_key: stray.privateKeyPem }), { mode: 0o600 });
    const kept = await secure(name, { dir });
    assert.equal(kept.publicKey, agent.publicKey);
    assert.equal((await file.read())!.pending_private_key, undefined);

    // A rotation the server took, with the promotion lost (as if the process died after the request).
    await agent.rotateKey();
    const rotated = (await file.read())!;
    writeFileSync(file.path, JSON.stringify({ ...before, pending_private_key: rotated.private_key }), { mode: 0o600 });
    const recovered = await secure(name, { dir });
    assert.equal(recovered.publicKey, agent.publicKey);
    assert.notEqual(recovered.publicKey, kept.publicKey);
    assert.equal((await recovered.verifyAction('search', 'after-recovery')).key_id, (await keysOf(aim, agent.id)).find((k) => k.status === 'active')!.key_id);
  });
});

/** A server whose notice period covers a key's whole life: every answer says rotation is due. */
describe('automatic key rotation when the server says it is due', () => {
  let aim: LiveServer;
  let dir: string;
  before(async () => {
    aim = await startLiveServer({ AIM_KEY_MAX_AGE_DAYS: '30', AIM_KEY_ROTATION_NOTICE_DAYS: '30' });
    dir = mkdtempSync(join(tmpdir(), 'aim-credentials-'));
  });
  after(async () => {
    await aim?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('verifyAction sees rotation_due, rotates to a locally generated key, and saves it atomically', async () => {
    const name = `rotating-${Date.now()}`;
    const agent = await secure(name, { dir, baseUrl: aim.url, registerWith: aim.adminClient, capabilities: ['search'] });
    const originalKey = agent.publicKey;
    const decision = await agent.verifyAction('search', 'docs/one');
    assert.equal(decision.rotation_due, true);
    assert.equal(agent.rotations, 1);
    assert.notEqual(agent.publicKey, originalKey);

    const keys = await keysOf(aim, agent.id);
    assert.equal(keys.find((k) => k.public_key === agent.publicKey)?.status, 'active');
    assert.equal(keys.find((k) => k.public_key === originalKey)?.status, 'grace');
    const stored = (await identityFile(name, dir).read())!;
    assert.equal(stored.private_key, agent.identity.private_key);
    assert.equal(stored.pending_private_key, undefined);
    assert.equal(statSync(join(dir, `${name}.json`)).mode & 0o777, 0o600);

    // The next process loads the rotated key and signs with it.
    const next = await secure(name, { dir });
    const signedWithNew = await next.verifyAction('search', 'docs/two');
    assert.equal(signedWithNew.key_id, keys.find((k) => k.public_key === originalKey && k.status === 'grace')?.replaced_by);
  });

  it('concurrent verifications that all see rotation_due share one rotation', async () => {
    const agent = await Agent.register(aim.adminClient, { name: `rotating-many-${Date.now()}`, capabilities: ['search'] });
    await Promise.all(Array.from({ length: 5 }, (_, i) => agent.verifyAction('search', `doc-${i}`)));
    assert.equal(agent.rotations, 1);
    assert.equal((await keysOf(aim, agent.id)).filter((k) => k.status === 'grace').length, 1);
  });
});

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { AIMClient, Ed25519KeyPair, type AgentIdentity } from '@aim/sdk';
import { identityFile, secure } from '@aim/sdk/node';
import { startLiveServer, type LiveServer } from './live-server.js';

/** The base64 line of a PEM: inspect and JSON escape the newlines, so the whole PEM would never match. */
const pemBody = (pem: string) => pem.split('\n')[1]!;

/** Every way a program might log an object: none may show any of `secrets`. */
function assertNothingShown(what: string, value: unknown, secrets: string[]): void {
  const shown = [inspect(value, { depth: 10 }), inspect(value, { depth: 10, showHidden: true }), JSON.stringify(value), String(value)];
  for (const secret of secrets) {
    for (const text of shown) assert.equal(text.includes(secret), false, `${what} shows a secret: ${text}`);
  }
}

describe('SDK objects holding a secret are safe to log', () => {
  let aim: LiveServer;
  let apiKey: string;
  let dir: string;
  before(async () => {
    aim = await startLiveServer();
    apiKey = (await aim.adminClient.apiKeys.create({ name: 'redaction' })).key;
    dir = mkdtempSync(join(tmpdir(), 'aim-redaction-'));
  });
  after(async () => {
    await aim?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a client holding an API key, and its non-secret fields still shown', async () => {
    const client = new AIMClient({ baseUrl: aim.url, auth: { apiKey } });
    await client.agents.list();
    assertNothingShown('API key client', client, [apiKey]);
    assert.match(inspect(client), new RegExp(aim.url.replace(/[.]/g, '\\.')));
    assert.match(inspect(client), /\[redacted\]/);
  });

  it('a password client, its token manager, and the tokens it renewed', async () => {
    const refreshTokens: string[] = [];
    const client = new AIMClient({ baseUrl: aim.url, auth: { ...aim.admin, store: { save: async (t) => void refreshTokens.push(t) } } });
    await client.me();
    const accessToken = await client.tokens!.accessToken();
    const secrets = [aim.admin.password, accessToken, ...refreshTokens];
    assert.ok(refreshTokens.length > 0);
    assertNothingShown('password client', client, secrets);
    assertNothingShown('token manager', client.tokens, secrets);
    assert.deepEqual(client.credentials, client.options.auth, 'the properties still answer');
    assert.equal((client.credentials as { password: string }).password, aim.admin.password);
  });

  it('a client holding an SDK token, and one with a bearer token of its own', async () => {
    const issued = await aim.adminClient.sdkTokens.create({ name: `redaction-${Date.now()}` });
    const rotated: string[] = [];
    const client = new AIMClient({ baseUrl: aim.url, auth: { sdkToken: issued.refresh_token, store: { save: async (t) => void rotated.push(t) } } });
    await client.me();
    const accessToken = await client.tokens!.accessToken();
    assertNothingShown('SDK token client', client, [issued.refresh_token, accessToken, ...rotated]);

    const bearer = new AIMClient({ baseUrl: aim.url, auth: { accessToken } });
    assert.equal((await bearer.me()).email, aim.admin.email);
    assertNothingShown('bearer client', bearer, [accessToken]);
  });

  it('an agent identity, its client (agent credentials), its key pair, and its identity file', async () => {
    const name = `redacted-${Date.now()}`;
    const agent = await secure(name, { dir, baseUrl: aim.url, registerWith: { apiKey }, capabilities: ['search'] });
    await agent.verifyAction('search', 'docs');
    const privateKey = pemBody(agent.identity.private_key);
    assertNothingShown('agent', agent, [privateKey]);
    assert.match(inspect(agent), new RegExp(agent.id), 'the agent id is shown');

    const keys = await Ed25519KeyPair.fromPem(agent.identity.private_key);
    assertNothingShown('key pair', keys, [privateKey]);
    assert.equal(keys.privateKeyPem, agent.identity.private_key, 'privateKeyPem still answers');
    assert.match(inspect(keys), new RegExp(keys.publicKey.replace(/[+]/g, '\\+')));

    const own = new AIMClient({ baseUrl: aim.url, auth: { agentId: agent.id, key: agent.identity.private_key } });
    await own.authenticate();
    assertNothingShown('agent client', own, [privateKey, await own.tokens!.accessToken()]);

    const file = identityFile(name, dir);
    await file.update((stored) => stored as AgentIdentity);
    assertNothingShown('identity file', file, [privateKey]);
  });
});

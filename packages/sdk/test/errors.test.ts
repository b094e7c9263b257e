import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { DECISION_REASONS, ERROR_CODES, ERROR_STATUS, type DecisionReason as ProtocolReason, type ErrorCode } from '@aim/protocol';
import * as sdk from '@aim/sdk';
import {
  AIMClient,
  AgentSuspendedError,
  AimError,
  ConflictError,
  ERROR_CLASSES,
  Ed25519KeyPair,
  InsufficientScopeError,
  InvalidApiKeyError,
  InvalidClientError,
  InvalidGrantError,
  InvalidRequestError,
  InvalidSignatureError,
  NetworkError,
  NonceReusedError,
  NotFoundError,
  RateLimitedError,
  SignatureExpiredError,
  errorFromResponse,
  type Agent,
} from '@aim/sdk';
import { startLiveServer, type LiveServer } from './live-server.js';

describe('SDK error classes mirror the protocol catalogue', () => {
  it('every protocol error code has an SDK class, and the SDK has no code the protocol lacks', () => {
    // Type level too: this line stops compiling when a protocol code has no entry.
    const table: Record<ErrorCode, unknown> = ERROR_CLASSES;
    assert.deepEqual(Object.keys(table).sort(), [...ERROR_CODES].sort());
  });

  it('decision reasons are the protocol\'s, both ways (checked by the compiler)', () => {
    const sdkReasons: Record<sdk.DecisionReason, true> = { capability_granted: true, capability_missing: true, resource_not_allowed: true };
    const fromProtocol: Record<ProtocolReason, true> = sdkReasons;
    const toProtocol: Record<sdk.DecisionReason, true> = fromProtocol;
    assert.deepEqual(Object.keys(toProtocol).sort(), [...DECISION_REASONS].sort());
  });

  for (const code of ERROR_CODES) {
    it(`${code} becomes its own class, exported, carrying code and status`, () => {
      const error = errorFromResponse(ERROR_STATUS[code], { error: code, error_description: 'text' }, code === 'rate_limited' ? 7 : undefined);
      const Class = ERROR_CLASSES[code];
      assert.ok(error instanceof Class);
      assert.ok(error instanceof AimError);
      assert.notEqual(Class, AimError, 'a class of its own');
      assert.equal(error.code, code);
      assert.equal(error.status, ERROR_STATUS[code]);
      assert.equal((sdk as Record<string, unknown>)[Class.name], Class, `${Class.name} is exported`);
      if (code === 'rate_limited') assert.equal((error as RateLimitedError).retryAfter, 7);
    });
  }

  it('a code the SDK does not know yet is still an AimError with that code', () => {
    const error = errorFromResponse(418, { error: 'teapot', error_description: 'short and stout' });
    assert.equal(error.constructor, AimError);
    assert.equal(error.code, 'teapot');
  });

  it('the browser entry point imports nothing from node:', () => {
    const dist = fileURLToPath(new URL('../dist/', import.meta.url));
    const browserFiles = readdirSync(dist).filter((f) => f.endsWith('.js'));
    assert.ok(browserFiles.includes('index.js'));
    for (const file of browserFiles) {
      // Code only: JSDoc examples may mention process.env.
      const text = readFileSync(join(dist, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
      assert.doesNotMatch(text, /from ['"]node:|require\(|\bBuffer\b|\bprocess\./, `${file} must run in browsers`);
    }
  });
});

/** Each refusal, provoked for real, arrives as its typed error. */
describe('typed errors from a live server', () => {
  let aim: LiveServer;
  let client: AIMClient;
  let agent: Agent;
  before(async () => {
    aim = await startLiveServer();
    client = new AIMClient({ baseUrl: aim.url, auth: { apiKey: (await aim.adminClient.apiKeys.create({ name: 'errors' })).key } });
    agent = await client.agents.register({ name: `errors-${Date.now()}`, capabilities: ['search'] }, { client });
  });
  after(async () => aim?.stop());

  it('invalid_signature: signed by another key', async () => {
    const impostor = await Ed25519KeyPair.generate();
    const signed = await agent.signAction('search', 'x');
    const forged = { ...signed, signature: sdk.randomNonce(64) };
    await assert.rejects(client.verifySigned(agent.id, forged), InvalidSignatureError);
    await assert.rejects(
      sdk.Agent.connect({ ...agent.identity, private_key: impostor.privateKeyPem }, { client }).then((a) => a.verifyAction('search', 'x')),
      InvalidSignatureError,
    );
  });

  it('signature_expired: a timestamp outside the window', async () => {
    const signed = await agent.signAction('search', 'x', { timestamp: Math.floor(Date.now() / 1000) - 3600 });
    await assert.rejects(client.verifySigned(agent.id, signed), SignatureExpiredError);
  });

  it('nonce_reused: the same nonce twice', async () => {
    const nonce = sdk.randomNonce();
    await client.verifySigned(agent.id, await agent.signAction('search', 'x', { nonce }));
    await assert.rejects(client.verifySigned(agent.id, await agent.signAction('search', 'x', { nonce })), NonceReusedError);
  });

  it('invalid_client: an agent assertion signed by a key the server does not know', async () => {
    const impostor = await Ed25519KeyPair.generate();
    const own = new AIMClient({ baseUrl: aim.url, auth: { agentId: agent.id, key: impostor } });
    await assert.rejects(own.authenticate(), (e) => e instanceof InvalidClientError && e.status === 401);
  });

  it('invalid_api_key, invalid_grant, not_found, conflict, invalid_request', async () => {
    await assert.rejects(new AIMClient({ baseUrl: aim.url, auth: { apiKey: 'ak_live_nonsense' } }).agents.list(), InvalidApiKeyError);
    await assert.rejects(new AIMClient({ baseUrl: aim.url, auth: { sdkToken: 'rt_nothing.real' } }).me(), InvalidGrantError);
    await assert.rejects(client.agents.get('00000000-0000-4000-8000-000000000000'), NotFoundError);
    await assert.rejects(client.agents.register({ name: agent.identity.name }), ConflictError);
    await assert.rejects(client.agents.register({ name: 'bad caps', capabilities: ['no spaces allowed'] }), InvalidRequestError);
  });

  it('insufficient_scope: a read-only key cannot register', async () => {
    const readOnly = new AIMClient({ baseUrl: aim.url, auth: { apiKey: (await aim.adminClient.apiKeys.create({ name: 'ro', scopes: ['agents:read'] })).key } });
    await assert.rejects(readOnly.agents.register({ name: 'nope' }), InsufficientScopeError);
  });

  it('agent_suspended: a suspended agent is refused', async () => {
    const other = await client.agents.register({ name: `suspended-${Date.now()}`, capabilities: ['search'] }, { client });
    await client.agents.suspend(other.id);
    await assert.rejects(other.verifyAction('search', 'x'), AgentSuspendedError);
  });

  it('network_error: nothing listens there', async () => {
    await assert.rejects(new AIMClient({ baseUrl: 'http://127.0.0.1:9', auth: { apiKey: 'ak_live_x' } }).agents.list(), NetworkError);
  });
});

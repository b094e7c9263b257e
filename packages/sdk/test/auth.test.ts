import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Secret, TOTP } from 'otpauth';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { refreshTokenFile } from '@aim/sdk/node';
import { AIMClient, InvalidCredentialsError, InvalidGrantError, MfaRequiredError, NetworkError, RefreshTokenReusedError, type Agent } from '@aim/sdk';
import { startLiveServer, type LiveServer } from './live-server.js';

/** A store that remembers every refresh token it was asked to keep, in order. */
function recordingStore() {
  const saved: string[] = [];
  return { saved, save: async (token: string) => void saved.push(token) };
}

/** Each way to authenticate, against a real server process. */
describe('SDK authentication against a live server', () => {
  let aim: LiveServer;
  before(async () => {
    aim = await startLiveServer();
  });
  after(async () => aim?.stop());

  it('email and password: signs in lazily, renews through the session refresh token, persists each rotation', async () => {
    const store = recordingStore();
    const client = new AIMClient({ baseUrl: aim.url, auth: { ...aim.admin, store } });
    const me = await client.me();
    assert.equal(me.email, aim.admin.email);
    assert.equal(me.role, 'admin');
    assert.equal(store.saved.length, 1, 'the login refresh token is kept');
    assert.match(store.saved[0]!, /^rt_/);

    // A session refresh token alone (what `aim login` stores) keeps the session going and rotates.
    const resumed = new AIMClient({ baseUrl: aim.url, auth: { sessionRefreshToken: store.saved[0]!, store } });
    assert.equal((await resumed.me()).email, aim.admin.email);
    assert.equal(store.saved.length, 2);
    assert.notEqual(store.saved[1], store.saved[0]);
  });

  it('a wrong password is InvalidCredentialsError', async () => {
    const client = new AIMClient({ baseUrl: aim.url, auth: { email: aim.admin.email, password: 'not-the-password-at-all' } });
    await assert.rejects(client.me(), (e) => e instanceof InvalidCredentialsError && e.code === 'invalid_credentials' && e.status === 401);
  });

  it('email, password and TOTP: mfa_required without a code; a code given up front or on demand signs in', async () => {
    /** A member with 2FA enabled. The enabling code's time step is used up; a sign-in can use the next step (±1). */
    const enrolled = async () => {
      const member = { email: `mfa-${Date.now()}-${Math.random()}@example.test`, password: 'mfa-user-correct-horse-battery' };
      await aim.adminClient.request('POST', '/api/v1/users', { json: { ...member, role: 'member' } });
      const person = new AIMClient({ baseUrl: aim.url, auth: member });
      // A fresh sign-in needs no password to enrol; an old one would pass { password } (ReauthenticationRequiredError).
      const setup = await person.mfa.totpSetup();
      const secret = Secret.fromBase32(setup.secret);
      const enabled = await person.mfa.totpEnable(TOTP.generate({ secret, timestamp: Date.now() }), { password: member.password });
      assert.equal(enabled.recovery_codes.length, 10);
      return { member, nextCode: () => TOTP.generate({ secret, timestamp: Date.now() + 30_000 }) };
    };

    const first = await enrolled();
    await assert.rejects(new AIMClient({ baseUrl: aim.url, auth: first.member }).me(), MfaRequiredError);
    const upFront = new AIMClient({ baseUrl: aim.url, auth: { ...first.member, totpCode: first.nextCode() } });
    assert.equal((await upFront.me()).email, first.member.email);

    const second = await enrolled();
    let asked = 0;
    const onDemand = new AIMClient({ baseUrl: aim.url, auth: { ...second.member, totpCode: async () => (asked++, second.nextCode()) } });
    assert.equal((await onDemand.me()).email, second.member.email);
    assert.equal(asked, 1, 'the code is asked for only after mfa_required');
  });

  it('API key: sent as X-API-Key on every call', async () => {
    const issued = await aim.adminClient.apiKeys.create({ name: `sdk-key-${Date.now()}`, scopes: ['agents:read', 'agents:write', 'verify'] });
    assert.match(issued.key, /^ak_live_/);
    const client = new AIMClient({ baseUrl: aim.url, auth: { apiKey: issued.key } });
    const page = await client.agents.list();
    assert.ok(Array.isArray(page.agents));
    assert.equal(client.tokens, undefined, 'no token manager for API keys');
    assert.ok(client.rateLimit && client.rateLimit.policy === 'api_key', 'the RateLimit headers are read');
  });

  it('SDK token: traded at /oauth/token, rotated on each renewal and persisted; the stored token resumes', async () => {
    const sdk = await aim.adminClient.sdkTokens.create({ name: `sdk-test-${Date.now()}` });
    let now = Date.now();
    const store = recordingStore();
    const client = new AIMClient({ baseUrl: aim.url, auth: { sdkToken: sdk.refresh_token, store }, now: () => now });
    assert.equal((await client.me()).email, aim.admin.email);
    assert.equal(store.saved.length, 1);
    now += 16 * 60_000; // the 15-minute access token is due for renewal
    await client.me();
    assert.equal(store.saved.length, 2);
    assert.equal(client.tokens!.renewals, 2);

    const resumed = new AIMClient({ baseUrl: aim.url, auth: { sdkToken: store.saved[1]! } });
    assert.equal((await resumed.me()).email, aim.admin.email);
    // The original token was rotated long ago: presenting it again is the reuse alarm, and the family is revoked.
    const stale = new AIMClient({ baseUrl: aim.url, auth: { sdkToken: sdk.refresh_token } });
    await assert.rejects(stale.me(), (e) => e instanceof RefreshTokenReusedError || e instanceof InvalidGrantError);
  });

  it('a refresh-token file: each rotation replaces it atomically (0600), and the next process resumes from it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aim-rt-'));
    try {
      const file = refreshTokenFile(join(dir, 'sdk-token.json'));
      const sdk = await aim.adminClient.sdkTokens.create({ name: `sdk-file-${Date.now()}` });
      await new AIMClient({ baseUrl: aim.url, auth: { sdkToken: sdk.refresh_token, store: file } }).me();
      const stored = await file.load();
      assert.ok(stored && stored !== sdk.refresh_token);
      assert.equal(statSync(file.path).mode & 0o777, 0o600);
      await new AIMClient({ baseUrl: aim.url, auth: { sdkToken: stored, store: file } }).me();
      assert.notEqual(await file.load(), stored);
      assert.deepEqual(readdirSync(dir), ['sdk-token.json']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('concurrent calls during a refresh: one rotation, every call served, no reuse alarm', async () => {
    const sdk = await aim.adminClient.sdkTokens.create({ name: `sdk-concurrent-${Date.now()}` });
    let now = Date.now();
    const store = recordingStore();
    const client = new AIMClient({ baseUrl: aim.url, auth: { sdkToken: sdk.refresh_token, store }, now: () => now });

    const first = await Promise.all(Array.from({ length: 20 }, () => client.agents.list({ limit: 1 })));
    assert.equal(first.length, 20);
    assert.equal(client.tokens!.renewals, 1, 'twenty first calls share one token request');

    now += 15 * 60_000; // expired, from the client's point of view: every call below wants a renewal
    const second = await Promise.all(Array.from({ length: 20 }, () => client.agents.list({ limit: 1 })));
    assert.equal(second.length, 20);
    assert.equal(client.tokens!.renewals, 2, 'one rotation for twenty concurrent calls');
    assert.equal(store.saved.length, 2);
    assert.equal(new Set(store.saved).size, 2);

    const alerts = await aim.adminClient.request<{ alerts: Array<{ type: string; evidence: { name?: string } }> }>('GET', '/api/v1/alerts');
    assert.deepEqual(alerts.alerts.filter((a) => a.type === 'sdk_token_reused' && a.evidence.name === sdk.name), [], 'no reuse alarm');
    const tokens = await aim.adminClient.sdkTokens.list();
    assert.equal(tokens.sdk_tokens.find((t) => t.id === sdk.id)?.status, 'active', 'the family was not revoked');
    // The last saved token is the live one.
    assert.ok(await new AIMClient({ baseUrl: aim.url, auth: { sdkToken: store.saved[1]! } }).me());
  });

  it('a refresh token the server refused as reused is not presented again: later calls throw the same error, sending nothing', async () => {
    const sdk = await aim.adminClient.sdkTokens.create({ name: `sdk-reused-${Date.now()}` });
    // Someone else (a copied token file, another process) rotated it first.
    await new AIMClient({ baseUrl: aim.url, auth: { sdkToken: sdk.refresh_token } }).me();
    const sent: string[] = [];
    const client = new AIMClient({
      baseUrl: aim.url,
      auth: { sdkToken: sdk.refresh_token },
      fetch: (input, init) => (sent.push(new URL(String(input)).pathname), fetch(input, init)),
    });
    const first = await client.me().catch((e: unknown) => e);
    // The token endpoint says invalid_grant (RFC 6749 §5.2), /api/v1/auth/refresh refresh_token_reused.
    assert.ok(first instanceof InvalidGrantError || first instanceof RefreshTokenReusedError, String(first));
    assert.deepEqual(sent, ['/oauth/token']);
    await assert.rejects(client.me(), (e) => e === first);
    await assert.rejects(client.agents.list(), (e) => e === first);
    assert.deepEqual(sent, ['/oauth/token'], 'the spent token went to the server once');
  });

  it('agent private_key_jwt: a failed metadata fetch is not remembered; the next call signs in', async () => {
    const agent: Agent = await aim.adminClient.agents.register({ name: `jwt-retry-${Date.now()}`, capabilities: ['search'] });
    let cut = true;
    const client = new AIMClient({
      baseUrl: aim.url,
      auth: { agentId: agent.id, key: agent.identity.private_key },
      // The network drops the first request (the RFC 8414 metadata), then comes back.
      fetch: (input, init) => (cut ? ((cut = false), Promise.reject(new TypeError('fetch failed'))) : fetch(input, init)),
    });
    await assert.rejects(client.authenticate(), NetworkError);
    await client.authenticate();
    assert.equal(client.tokens!.renewals, 1);
  });

  it('agent private_key_jwt: the agent authenticates with its own key (client_credentials) and verifies actions', async () => {
    const agent: Agent = await aim.adminClient.agents.register({ name: `jwt-agent-${Date.now()}`, capabilities: ['search'] });
    const decision = await agent.verifyAction('search', 'docs/handbook');
    assert.equal(decision.allowed, true);
    assert.equal(decision.agent_id, agent.id);

    // The same, by hand: a client with the agent's credential gets an OAuth token with scope `verify`.
    const own = new AIMClient({ baseUrl: aim.url, auth: { agentId: agent.id, key: agent.identity.private_key } });
    await own.authenticate();
    const signed = await agent.signAction('search', 'docs/other');
    assert.equal((await own.verifySigned(agent.id, signed)).allowed, true);
  });
});

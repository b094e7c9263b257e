import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { AIMClient, ConflictError, InsufficientScopeError, InvalidApiKeyError, InvalidCredentialsError, InvalidGrantError, InvalidRequestError, InvalidTokenError, NotFoundError } from '@aim/sdk';
import { startLiveServer, type LiveServer } from './live-server.js';

/** The typed helpers for SDK tokens, users, verification stats and audit checkpoints, against a live server. */
describe('SDK client helpers', () => {
  let aim: LiveServer;
  before(async () => {
    aim = await startLiveServer();
  });
  after(async () => aim?.stop());

  it('sdkTokens: create shows the token once; list never does; revoke stops it; revokeAll counts what it revoked', async () => {
    const one = await aim.adminClient.sdkTokens.create({ name: `helpers-one-${Date.now()}`, expiresInDays: 5 });
    const two = await aim.adminClient.sdkTokens.create({ name: `helpers-two-${Date.now()}` });
    assert.match(one.refresh_token, /\S{20,}/);
    assert.equal(one.status, 'active');
    const { sdk_tokens: listed } = await aim.adminClient.sdkTokens.list();
    assert.ok(listed.some((t) => t.id === one.id && t.status === 'active'));
    assert.equal(JSON.stringify(listed).includes(one.refresh_token), false, 'the token is in no other answer');

    const user = new AIMClient({ baseUrl: aim.url, auth: { sdkToken: one.refresh_token } });
    await user.me();
    const revoked = await aim.adminClient.sdkTokens.revoke(one.id);
    assert.equal(revoked.status, 'revoked');
    assert.notEqual(revoked.revoked_at, null);
    await assert.rejects(new AIMClient({ baseUrl: aim.url, auth: { sdkToken: one.refresh_token } }).me(), InvalidGrantError);
    await assert.rejects(aim.adminClient.sdkTokens.revoke('00000000-0000-4000-8000-000000000000'), NotFoundError);

    const { revoked: count } = await aim.adminClient.sdkTokens.revokeAll();
    assert.ok(count >= 1);
    const after = (await aim.adminClient.sdkTokens.list()).sdk_tokens;
    assert.equal(after.find((t) => t.id === two.id)?.status, 'revoked');
    assert.deepEqual(after.filter((t) => t.status === 'active'), []);
    assert.equal((await aim.adminClient.sdkTokens.revokeAll()).revoked, 0);
  });

  it('sessions: list names the current one and the client\'s User-Agent; revoke and revokeOthers sign the others out', async () => {
    const named = new AIMClient({ baseUrl: aim.url, userAgent: 'helpers-test/1.0', auth: { email: aim.admin.email, password: aim.admin.password } });
    const { sessions } = await named.sessions.list();
    const current = sessions.find((s) => s.current);
    assert.equal(current?.user_agent, 'helpers-test/1.0');
    const other = new AIMClient({ baseUrl: aim.url, auth: { email: aim.admin.email, password: aim.admin.password } });
    await other.me();
    const otherId = (await other.sessions.list()).sessions.find((s) => s.current)!.id;
    assert.notEqual(otherId, current?.id);

    const revoked = await named.sessions.revoke(otherId);
    assert.notEqual(revoked.revoked_at, null);
    assert.equal((await named.sessions.list()).sessions.some((s) => s.id === otherId), false);
    await assert.rejects(named.sessions.revoke('00000000-0000-4000-8000-000000000000'), NotFoundError);
    await named.sessions.revokeOthers();
    assert.deepEqual((await named.sessions.list()).sessions.map((s) => s.id), [current?.id]);
  });

  it('users: create, list, role, password reset link redeemed once, disable revokes, enable, delete; typed errors', async () => {
    const email = `helpers-user-${Date.now()}@example.test`;
    const created = await aim.adminClient.users.create({ email, password: 'helpers-user-correct-horse', role: 'member' });
    assert.equal(created.role, 'member');
    assert.equal((await aim.adminClient.users.list()).users.find((u) => u.id === created.id)?.status, 'active');
    assert.equal((await aim.adminClient.users.setRole(created.id, 'viewer')).role, 'viewer');

    const link = await aim.adminClient.users.passwordReset(created.id);
    assert.equal(link.user_id, created.id);
    assert.equal(new URL(link.reset_url).hash, `#token=${link.reset_token}`);
    const done = await AIMClient.completePasswordReset({ baseUrl: aim.url }, link.reset_token, 'helpers-user-new-password');
    assert.equal(done.email, email);
    await assert.rejects(AIMClient.completePasswordReset({ baseUrl: aim.url }, link.reset_token, 'helpers-user-other-password'), InvalidGrantError);
    await assert.rejects(AIMClient.completePasswordReset({ baseUrl: aim.url }, link.reset_token, 'short'), InvalidRequestError);
    const person = new AIMClient({ baseUrl: aim.url, auth: { email, password: 'helpers-user-new-password' } });
    assert.equal((await person.me()).email, email);

    const disabled = await aim.adminClient.users.disable(created.id);
    assert.equal(disabled.status, 'disabled');
    assert.equal(disabled.revoked.sessions, 1);
    await assert.rejects(new AIMClient({ baseUrl: aim.url, auth: { email, password: 'helpers-user-new-password' } }).me(), InvalidCredentialsError);
    await assert.rejects(aim.adminClient.users.passwordReset(created.id), ConflictError);
    assert.equal((await aim.adminClient.users.enable(created.id)).status, 'active');
    await assert.rejects(aim.adminClient.users.resetMfa(created.id), ConflictError);
    assert.equal((await aim.adminClient.users.remove(created.id)).deleted, true);
    await assert.rejects(aim.adminClient.users.passwordReset(created.id), NotFoundError);

    const key = (await aim.adminClient.apiKeys.create({ name: `users-admin-key-${Date.now()}`, scopes: ['admin'] })).key;
    // People are administered by people: even an admin-scoped API key is refused.
    await assert.rejects(new AIMClient({ baseUrl: aim.url, auth: { apiKey: key } }).users.list(), InvalidApiKeyError);
  });

  it('verificationStats(days): one entry per UTC day, oldest first, today counting the decisions just made', async () => {
    const agent = await aim.adminClient.agents.register({ name: `stats-${Date.now()}`, capabilities: ['search'] });
    await agent.verifyAction('search', 'docs/a');
    await agent.verifyAction('payments:create', 'invoice/1', { throwOnDeny: false });
    const days = await aim.adminClient.verificationStats(3);
    assert.equal(days.length, 3);
    assert.deepEqual(days.map((d) => d.day), [...days.map((d) => d.day)].sort());
    const today = days.at(-1)!;
    assert.equal(today.day, new Date().toISOString().slice(0, 10));
    assert.ok(today.allowed >= 1 && today.denied >= 1);
    assert.equal((await aim.adminClient.verificationStats()).length, 14, "the server's default");
    await assert.rejects(aim.adminClient.verificationStats(91), InvalidRequestError);
    await assert.rejects(aim.adminClient.verificationStats(0), InvalidRequestError);
  });

  it('auditCheckpoint(): the chain head, signed (EdDSA) by a key the JWKS publishes', async () => {
    const head = await aim.adminClient.auditCheckpoint();
    assert.ok(head.seq > 0);
    assert.match(head.hash, /^[0-9a-f]{64}$/);
    const [h, p, s] = head.checkpoint.split('.') as [string, string, string];
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { alg: string; kid: string; typ: string };
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as { seq: number; hash: string; sub: string };
    assert.deepEqual([header.alg, header.typ], ['EdDSA', 'aim-audit-checkpoint+jwt']);
    assert.deepEqual([payload.seq, payload.hash, payload.sub], [head.seq, head.hash, head.organization_id]);
    const { keys } = await aim.adminClient.request<{ keys: Array<{ kid: string }> }>('GET', '/.well-known/jwks.json');
    const jwk = keys.find((k) => k.kid === header.kid);
    assert.ok(jwk, 'kid published');
    assert.equal(verify(null, Buffer.from(`${h}.${p}`), createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(s, 'base64url')), true);
  });

  it('each helper needs its scope: an API key without audit:read or agents:read is refused, typed', async () => {
    const key = (await aim.adminClient.apiKeys.create({ name: `verify-only-${Date.now()}`, scopes: ['verify'] })).key;
    const narrow = new AIMClient({ baseUrl: aim.url, auth: { apiKey: key } });
    await assert.rejects(narrow.auditCheckpoint(), InsufficientScopeError);
    await assert.rejects(narrow.verificationStats(7), InsufficientScopeError);
    await assert.rejects(new AIMClient({ baseUrl: aim.url, auth: { accessToken: 'not-a-token' } }).auditCheckpoint(), InvalidTokenError);
  });
});

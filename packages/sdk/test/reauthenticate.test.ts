import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AIMClient, InvalidCredentialsError, InvalidRequestError, ReauthenticationRequiredError } from '@aim/sdk';
import { ManualClock, MINUTE } from '../../server/src/core/clock.js';
import { startTestServer, type TestServer } from '../../server/test/support/server.js';

/** The server's clock: a sign-in grows older than AIM_REAUTH_WINDOW (10 minutes) by moving it. */
const clock = new ManualClock(Date.now());

describe('SDK: steps that ask for a recent sign-in (AIM_REAUTH_WINDOW)', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ clock });
  });
  after(() => t?.close());

  const confirmations = async (organizationId: string) =>
    (await t.server.stores.audit.list({ organizationId, event: 'user.reauthenticated', limit: 10 })).length;

  it('a password client confirms its own password when the server asks, once, and goes on', async () => {
    const admin = await t.createUser({ role: 'admin' });
    const aim = new AIMClient({ baseUrl: t.url, auth: { email: admin.email, password: admin.password } });
    await aim.authenticate();
    clock.advance(11 * MINUTE);
    const issued = await aim.sdkTokens.create({ name: 'ci' });
    assert.match(issued.refresh_token, /^rt_/);
    const key = await aim.apiKeys.create({ name: 'deploys', scopes: ['agents:read'] });
    assert.match(key.key, /^ak_live_/);
    assert.equal(await confirmations(admin.organizationId), 1, 'the confirmed token served the second step too');
    assert.equal(aim.tokens!.renewals, 1, 'confirming is no sign-in: the session and its refresh token stay');
  });

  it('a session client (what `aim login` keeps) gets ReauthenticationRequiredError, and reauthenticate(password) opens the step', async () => {
    const admin = await t.createUser({ role: 'admin' });
    const login = await t.http.post<{ refresh_token: string }>('/api/v1/public/login', { email: admin.email, password: admin.password });
    const aim = new AIMClient({ baseUrl: t.url, auth: { sessionRefreshToken: login.body.refresh_token } });
    await aim.authenticate();
    clock.advance(11 * MINUTE);
    await assert.rejects(aim.sdkTokens.create({ name: 'laptop' }), ReauthenticationRequiredError);

    // No password to send: refused here (status 0), before any request.
    await assert.rejects(aim.reauthenticate(), (error: unknown) => error instanceof InvalidRequestError && error.status === 0);
    await assert.rejects(aim.reauthenticate('not the password'), InvalidCredentialsError);
    assert.equal(await confirmations(admin.organizationId), 0);

    const confirmed = await aim.reauthenticate(admin.password);
    assert.equal(confirmed.user.email, admin.email);
    const issued = await aim.sdkTokens.create({ name: 'laptop' });
    assert.equal(issued.name, 'laptop');
    assert.equal(await confirmations(admin.organizationId), 1);
  });

  it('a bearer-token client gets the new access token in the answer; the one it holds keeps its old sign-in time', async () => {
    const admin = await t.createUser({ role: 'admin' });
    const login = await t.http.post<{ access_token: string }>('/api/v1/public/login', { email: admin.email, password: admin.password });
    clock.advance(11 * MINUTE);
    const held = new AIMClient({ baseUrl: t.url, auth: { accessToken: login.body.access_token } });
    const { access_token: fresh } = await held.reauthenticate(admin.password);
    await assert.rejects(held.apiKeys.create({ name: 'old token' }), ReauthenticationRequiredError);
    const renewed = new AIMClient({ baseUrl: t.url, auth: { accessToken: fresh } });
    assert.match((await renewed.apiKeys.create({ name: 'new token' })).key, /^ak_live_/);
  });
});

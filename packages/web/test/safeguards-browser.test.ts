import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import type { OrgId } from '../../server/src/core/ids.js';
import { registerAgent, signedAction } from '../../server/test/support/agents.js';
import { startTestServer, type SignedIn, type TestServer } from '../../server/test/support/server.js';
import { assertAccessible, ensureBuilt, screenshot, signInWithForm, startWithBrowser, watchErrors, WEB_DIR } from './browser-support.js';

/** As the UI shortens ids (src/lib/format.ts). */
const shortId = (id: string) => (id.length > 12 ? `${id.slice(0, 8)}…` : id);

/** The browser, not our server: WebCrypto without Ed25519, as in browsers that predate it. */
const NO_ED25519 = `(() => {
  const generateKey = SubtleCrypto.prototype.generateKey;
  SubtleCrypto.prototype.generateKey = function (algorithm, ...rest) {
    const name = typeof algorithm === 'string' ? algorithm : algorithm && algorithm.name;
    if (String(name).toLowerCase() === 'ed25519') return Promise.reject(new DOMException('Algorithm: Unrecognized name', 'NotSupportedError'));
    return generateKey.call(this, algorithm, ...rest);
  };
})()`;

/** The browser, not our server: no Clipboard API, as on plain HTTP away from localhost. */
const NO_CLIPBOARD = 'delete Navigator.prototype.clipboard';

/** Waits until `locator` has the keyboard focus. */
async function focusLandsOn(locator: Locator): Promise<void> {
  await locator.and(locator.page().locator(':focus')).waitFor({ timeout: 5_000 });
}

describe('admin safeguards in Chromium: focus after row actions, named row buttons, Ed25519 support, role demotion, manual copy', () => {
  let t: TestServer;
  let browser: Browser;
  let admin: SignedIn;
  const contexts: BrowserContext[] = [];

  before(async () => {
    ensureBuilt();
    [t, browser] = await startWithBrowser(() => startTestServer({ webDir: WEB_DIR }));
    admin = await t.signIn({ role: 'admin' });
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  /** A fresh browser signed in as the admin, at `path`; `init` runs before any page script. */
  async function signedIn(path: string, options: { init?: string; permissions?: string[] } = {}): Promise<{ page: Page; errors: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    contexts.push(context);
    if (options.init) await context.addInitScript(options.init);
    if (options.permissions) await context.grantPermissions(options.permissions, { origin: t.url });
    const page = await context.newPage();
    const errors = watchErrors(page);
    await signInWithForm(page, t.url, admin);
    await page.goto(`${t.url}${path}`);
    return { page, errors };
  }

  it('Acknowledge and Resolve name their alert, and the focus stays in the list after each (WCAG 2.4.3)', async () => {
    const raise = (principalId: string, type: 'failed_logins' | 'key_expiring') =>
      t.server.services.alerts.raise({ organizationId: admin.organizationId as OrgId, type, principal: { type: 'user', id: principalId }, evidence: {} });
    const [a, b, c] = [await t.createUser({ organizationId: admin.organizationId }), await t.createUser({ organizationId: admin.organizationId }), await t.createUser({ organizationId: admin.organizationId })];
    await raise(a.id, 'failed_logins');
    await raise(b.id, 'key_expiring');
    await raise(c.id, 'failed_logins');
    const about = { a: `failed logins for user ${shortId(a.id)}`, b: `key expiring for user ${shortId(b.id)}`, c: `failed logins for user ${shortId(c.id)}` };
    const button = (verb: 'Acknowledge' | 'Resolve', alert: string) => page.getByRole('button', { name: `${verb} alert: ${alert}`, exact: true });

    const { page, errors } = await signedIn('/alerts');
    await page.getByRole('heading', { level: 1, name: 'Alerts' }).waitFor();
    for (const alert of Object.values(about)) {
      await button('Acknowledge', alert).waitFor();
      await button('Resolve', alert).waitFor();
    }
    await assertAccessible(page, 'alerts-named-actions');

    // Open alerts: the acknowledged one leaves the list; the focus goes to the alert that took its place.
    await button('Acknowledge', about.a).focus();
    await page.keyboard.press('Enter');
    await button('Acknowledge', about.a).waitFor({ state: 'detached' });
    await focusLandsOn(page.getByRole('button', { name: /^Acknowledge alert: / }));

    // All alerts: an acknowledged alert stays, and the focus moves on to its Resolve; once resolved, to the alert itself.
    await page.locator('label', { hasText: /^All$/ }).click();
    await button('Resolve', about.a).waitFor();
    await button('Acknowledge', about.b).focus();
    await page.keyboard.press('Enter');
    await focusLandsOn(button('Resolve', about.b));
    await page.keyboard.press('Enter');
    await focusLandsOn(page.getByRole('region', { name: about.b, exact: true }));
    assert.equal(await button('Resolve', about.b).count(), 0);

    // The last open alert acknowledged: the focus goes to the empty list's message.
    await page.locator('label', { hasText: /^Open$/ }).click();
    await button('Acknowledge', about.c).focus();
    await page.keyboard.press('Enter');
    await focusLandsOn(page.getByTestId('empty-state'));
    assert.match(await page.locator(':focus').innerText(), /No open alerts/);
    assert.deepEqual(errors, []);
  });

  it("each verification's View button, and each audit entry's Details, says which one it opens", async () => {
    const key = await t.http.post<{ key: string }>('/api/v1/api-keys', { name: 'verify' }, { token: admin.accessToken });
    assert.equal(key.status, 201, key.text);
    const agent = await registerAgent(t.http, admin.accessToken, { name: 'evidence-bot', capabilities: ['files:read'] });
    for (const [action, resource] of [['files:read', '/a.pdf'], ['payments:send', 'acct-1']] as const) {
      const answer = await t.http.post(`/api/v1/agents/${agent.id}/verify-action`, signedAction(agent.id, agent.keys.privateKey, action, resource), { apiKey: key.body.key });
      assert.equal(answer.status, 200, answer.text);
    }
    const { page, errors } = await signedIn(`/agents/${agent.id}`);
    await page.getByRole('button', { name: 'View evidence: payments:send on acct-1 (denied)', exact: true }).waitFor();
    await page.getByRole('button', { name: 'View evidence: files:read on /a.pdf (allowed)', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Verification evidence' });
    await dialog.waitFor();
    assert.match(await dialog.innerText(), /files:read:\/a\.pdf:/);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });

    await page.goto(`${t.url}/audit`);
    const details = page.getByRole('button', { name: /^Details of entry \d+: agent\.registered$/ });
    await details.click();
    await page.getByRole('button', { name: /^Hide details of entry \d+: agent\.registered$/ }).waitFor();
    assert.equal(await page.getByRole('button', { name: /^Hide details of entry \d+: agent\.registered$/ }).getAttribute('aria-expanded'), 'true');
    assert.deepEqual(errors, []);
  });

  it('registers an agent where the browser makes Ed25519 keys, and explains the other ways where it cannot', async () => {
    const supported = await signedIn('/agents/new');
    await supported.page.getByRole('heading', { level: 1, name: 'Register an agent' }).waitFor();
    await supported.page.getByLabel('Name').fill('ed25519-here');
    await supported.page.getByRole('button', { name: 'Generate key and register' }).click();
    await supported.page.getByRole('heading', { level: 1, name: 'Agent registered' }).waitFor();
    assert.equal(await supported.page.getByText('aim agents register').count(), 0);

    const { page, errors } = await signedIn('/agents/new', { init: NO_ED25519 });
    await page.getByRole('heading', { level: 1, name: 'Register an agent' }).waitFor();
    const notice = page.getByRole('alert').filter({ hasText: 'cannot make Ed25519 keys' });
    await notice.waitFor();
    const text = await notice.innerText();
    assert.match(text, /aim agents register/);
    assert.match(text, /SDK/);
    assert.ok(await page.getByRole('button', { name: 'Generate key and register' }).isDisabled(), 'nothing to submit without a key pair');
    await assertAccessible(page, 'agent-register-no-ed25519');
    await screenshot(page, 'agent-register-no-ed25519');
    assert.deepEqual(errors, []);
  });

  it('asks before lowering a role, says what it revoked, and promotes at once', async () => {
    const member = await t.signIn({ role: 'member', organizationId: admin.organizationId });
    const key = await t.http.post<{ key: string }>('/api/v1/api-keys', { name: 'member-key' }, { token: member.accessToken });
    assert.equal(key.status, 201, key.text);
    const keyWorks = async () => (await t.http.get('/api/v1/agents', { apiKey: key.body.key })).status === 200;

    const { page, errors } = await signedIn('/users');
    const role = page.locator(`input[aria-label="Role of ${member.email}"]`);
    const choose = async (value: string) => {
      await role.click();
      await page.getByRole('option', { name: value, exact: true }).click();
    };
    await choose('viewer');
    const dialog = page.getByRole('dialog', { name: 'Lower this role?' });
    await dialog.waitFor();
    const warning = await dialog.innerText();
    assert.match(warning, new RegExp(`${member.email.replace(/[.+]/g, '\\$&')} becomes viewer`));
    assert.match(warning, /signed out everywhere/);
    assert.match(warning, /API keys they created are revoked/);
    await assertAccessible(page, 'users-lower-role');
    await screenshot(page, 'users-lower-role', { fullPage: false });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await role.inputValue(), 'member', 'cancelled: the role is unchanged');
    assert.ok(await keyWorks(), 'and nothing was revoked');

    await choose('viewer');
    await dialog.getByRole('button', { name: 'Lower role' }).click();
    await dialog.waitFor({ state: 'detached' });
    const done = page.getByRole('status').filter({ hasText: `${member.email} is now viewer` });
    await done.waitFor();
    assert.match(await done.innerText(), /1 session or SDK token ended and 1 API key revoked/);
    assert.equal(await role.inputValue(), 'viewer');
    assert.equal(await keyWorks(), false, 'the API key they created stopped working');

    // A promotion takes nothing away: no question, and nothing said to be revoked.
    await choose('manager');
    await page.getByRole('status').filter({ hasText: `${member.email} is now manager` }).waitFor();
    assert.equal(await dialog.count(), 0);
    assert.equal(await role.inputValue(), 'manager');
    assert.deepEqual(errors, []);
  });

  it('copies a secret where the Clipboard API exists, and says to copy it by hand where it does not', async () => {
    const createKey = async (page: Page, name: string): Promise<string> => {
      await page.getByRole('button', { name: 'Create API key' }).click();
      await page.getByLabel('Name').fill(name);
      await page.getByRole('button', { name: 'Create key' }).click();
      const secret = page.getByTestId('secret-value');
      await secret.waitFor();
      return (await secret.innerText()).trim();
    };

    const withClipboard = await signedIn('/api-keys', { permissions: ['clipboard-read', 'clipboard-write'] });
    const copied = await createKey(withClipboard.page, 'clipboard-key');
    await withClipboard.page.getByRole('button', { name: 'Copy to clipboard' }).click();
    await withClipboard.page.getByRole('button', { name: 'Copied', exact: true }).waitFor();
    assert.equal(await withClipboard.page.evaluate<string>('navigator.clipboard.readText()'), copied);

    const { page, errors } = await signedIn('/api-keys', { init: NO_CLIPBOARD });
    const secret = await createKey(page, 'by-hand-key');
    await page.getByRole('button', { name: 'Copy to clipboard' }).click();
    const notice = page.getByRole('alert').filter({ hasText: 'could not copy' });
    await notice.waitFor();
    assert.match(await notice.innerText(), /select.*copy it by hand/i);
    // The value is selected for the person: Ctrl+C (⌘C) is all that is left.
    assert.equal((await page.evaluate<string>('String(getSelection())')).trim(), secret);
    await assertAccessible(page, 'copy-by-hand');
    await screenshot(page, 'copy-by-hand', { fullPage: false });
    assert.deepEqual(errors, []);
  });

  it('a reload while the server cannot be reached keeps the session and the page, and says so, instead of asking to sign in', async () => {
    const { page } = await signedIn('/agents');
    await page.getByRole('heading', { level: 1, name: 'Agents' }).waitFor();
    // The network, not our server: the refresh after the reload never arrives.
    await page.route('**/api/v1/auth/refresh', (route) => route.abort('connectionrefused'));
    await page.reload();
    await page.getByRole('alert').filter({ hasText: 'Cannot reach AIM right now' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/agents', 'still on the page, not sent to sign in');
    assert.equal(await page.getByRole('button', { name: 'Sign in' }).count(), 0);
    await assertAccessible(page, 'server-unavailable');
    await screenshot(page, 'server-unavailable', { fullPage: false });

    // The alert is already on screen, so waiting for it proves nothing: wait for the retry's refresh to fail, and the
    // button to be ready again, before the network comes back (else the retry itself could get through).
    const retried = page.waitForEvent('requestfailed', (request) => request.url().endsWith('/api/v1/auth/refresh'));
    await page.getByRole('button', { name: 'Try again' }).click();
    await retried;
    await page.getByRole('button', { name: 'Try again' }).and(page.locator(':enabled')).waitFor();
    await page.getByRole('alert').filter({ hasText: 'Cannot reach AIM right now' }).waitFor();
    await page.unroute('**/api/v1/auth/refresh');
    await page.getByRole('button', { name: 'Try again' }).click();
    await page.getByRole('heading', { level: 1, name: 'Agents' }).waitFor();

    // A session that is really over still goes to sign-in after a reload (ended here from the admin's API session,
    // which every other test of this file leaves alone: each signs in afresh).
    const ended = await t.http.post('/api/v1/auth/sessions/revoke-others', undefined, { token: admin.accessToken });
    assert.equal(ended.status, 200, ended.text);
    await page.reload();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/login');
  });
});

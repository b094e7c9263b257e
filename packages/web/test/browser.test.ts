import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import * as OTPAuth from 'otpauth';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { signedAction } from '../../server/test/support/agents.js';
import { startTestServer, type TestServer, type TestUser } from '../../server/test/support/server.js';
import { assertAccessible, ensureBuilt, focused, heapHolds, screenshot, startWithBrowser, signInWithForm, watchErrors, WEB_DIR, WIDTHS } from './browser-support.js';

/** A code for the next 30-second step: the step that enabled 2FA is spent, and the server accepts ±1 step. */
function nextTotp(secret: string): string {
  return new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' }).generate({ timestamp: Date.now() + 30_000 });
}

function totpNow(secret: string): string {
  return new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' }).generate();
}

async function heading(page: Page, name: string | RegExp): Promise<void> {
  await page.getByRole('heading', { level: 1, name }).waitFor();
}

/** The document's title, set as the page renders (in the same task, so it is there once the heading is). */
async function titled(page: Page, title: string): Promise<void> {
  assert.equal(await page.title(), title);
}

/** Waits for the focus to land on the button named `name`. */
async function focusLandsOn(page: Page, name: string): Promise<void> {
  await page.getByRole('button', { name, exact: true }).and(page.locator(':focus')).waitFor({ timeout: 5_000 });
}

async function hasFocus(locator: Locator): Promise<boolean> {
  return (await locator.and(locator.page().locator(':focus')).count()) === 1;
}

/** The main navigation, in order, as an admin sees it (Layout.tsx). */
const NAV = ['Dashboard', 'Agents', 'API keys', 'SDK tokens', 'Audit log', 'Alerts', 'Users', 'Settings'];

describe('admin web UI in Chromium', () => {
  let t: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let admin: TestUser;
  let errors: string[];
  let totpSecret = '';
  let recoveryCode = '';
  let apiKey = '';
  let agentId = '';
  let agentPrivateKeyPem = '';
  let sdkRefreshToken = '';

  before(async () => {
    ensureBuilt();
    [t, browser] = await startWithBrowser(() => startTestServer({ webDir: WEB_DIR }));
    admin = await t.createUser({ role: 'admin' });
    context = await browser.newContext({ viewport: { width: 1280, height: 860 }, acceptDownloads: true });
    page = await context.newPage();
    errors = watchErrors(page);
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  it('signs in with the keyboard and lands on the dashboard', async () => {
    await page.goto(t.url);
    await page.waitForURL(/\/login$/);
    await page.getByRole('heading', { name: 'Sign in to AIM' }).waitFor();
    await titled(page, 'Sign in · AIM');
    await screenshot(page, 'login');
    await assertAccessible(page, 'login');
    // Tab and Enter only: the page opens with the focus in Email, and Tab walks the form to its button.
    assert.ok(await hasFocus(page.getByLabel('Email')), 'Email has the focus on arrival');
    await page.keyboard.type(admin.email);
    await page.keyboard.press('Tab');
    assert.ok(await hasFocus(page.getByRole('textbox', { name: 'Password' })), 'Tab reaches Password');
    await page.keyboard.type(admin.password);
    await page.keyboard.press('Tab');
    const toggle = page.getByRole('button', { name: 'Show password' });
    assert.ok(await hasFocus(toggle), 'Tab reaches the show-password toggle');
    assert.equal(await toggle.getAttribute('aria-pressed'), 'false');
    await page.keyboard.press('Tab');
    assert.ok(await hasFocus(page.getByRole('button', { name: 'Sign in' })), 'Tab reaches the Sign in button');
    await page.keyboard.press('Enter');
    await heading(page, 'Dashboard');
    assert.match(await page.getByTestId('signed-in-as').innerText(), new RegExp(admin.email.replace(/[.+]/g, '\\$&')));
    // The first Tab reaches the skip link; Tab goes on through the header into the navigation, each stop with a ring.
    await page.evaluate('document.activeElement && document.activeElement.blur()');
    const stops: Array<{ name: string; ring: boolean }> = [];
    for (let i = 0; i < NAV.length + 3; i += 1) {
      await page.keyboard.press('Tab');
      stops.push(await focused(page));
    }
    assert.equal(stops[0]?.name, 'Skip to content');
    assert.deepEqual(stops.map((s) => s.name).filter((name) => NAV.includes(name)), NAV, 'Tab reaches every navigation link, in order');
    assert.deepEqual(stops.filter((s) => !s.ring).map((s) => s.name), [], 'every stop shows a focus indicator');
    // The skip link jumps past the navigation.
    await page.getByRole('link', { name: 'Skip to content' }).focus();
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate<string>('document.activeElement.id'), 'content');
    // An SDK token made elsewhere (the CLI), for the SDK tokens page to list and revoke.
    const session = await t.http.post<{ access_token: string }>('/api/v1/public/login', { email: admin.email, password: admin.password });
    const created = await t.http.post<{ refresh_token: string }>('/api/v1/sdk-tokens', { name: 'laptop-cli' }, { token: session.body.access_token });
    assert.equal(created.status, 201, created.text);
    sdkRefreshToken = created.body.refresh_token;
  });

  it('shows the API error_description on a wrong password', async () => {
    const other = await browser.newContext();
    const p = await other.newPage();
    await p.goto(`${t.url}/login`);
    await p.getByLabel('Email').fill(admin.email);
    await p.getByRole('textbox', { name: 'Password' }).fill('not the right password');
    await p.getByRole('button', { name: 'Sign in' }).click();
    const alert = p.getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.innerText(), /Could not sign in/);
    await other.close();
  });

  it('after sign-in goes back only to a page of this app, whatever ?next= says', async () => {
    const other = await browser.newContext();
    try {
      const p = await other.newPage();
      const pageErrors = watchErrors(p);
      // One slash, yet another site to a browser: the router refuses it, which must not blank the app.
      const elsewhere = `${t.url}/login?next=${encodeURIComponent('/\\example.com/x')}`;
      await p.goto(elsewhere);
      await p.getByLabel('Email').fill(admin.email);
      await p.getByRole('textbox', { name: 'Password' }).fill(admin.password);
      await p.getByRole('button', { name: 'Sign in' }).click();
      await heading(p, 'Dashboard');
      assert.equal(new URL(p.url()).pathname, '/');
      // Signed in already: the sign-in page sends the person on at once.
      await p.goto(elsewhere);
      await heading(p, 'Dashboard');
      await p.goto(`${t.url}/login?next=${encodeURIComponent('/audit?subject=agent-1')}`);
      await heading(p, 'Audit log');
      assert.equal(await p.getByRole('textbox', { name: 'Subject id' }).inputValue(), 'agent-1');
      assert.deepEqual(pageErrors, []);
    } finally {
      await other.close();
    }
  });

  it('enrols 2FA from the QR code page and shows recovery codes once', async () => {
    await page.getByRole('link', { name: 'Settings' }).click();
    await heading(page, 'Settings');
    // A refused call shows the API's description and leaves the session alone (a 401 that is not invalid_token).
    const refreshes: string[] = [];
    const onResponse = (r: { url(): string }) => void (r.url().endsWith('/api/v1/auth/refresh') && refreshes.push(r.url()));
    page.on('response', onResponse);
    await page.getByRole('textbox', { name: 'Current password' }).fill('this is not my password');
    await page.getByRole('textbox', { name: 'New password', exact: true }).fill('a brand new long passphrase');
    await page.getByRole('textbox', { name: 'Repeat the new password' }).fill('a brand new long passphrase');
    await page.getByRole('button', { name: 'Change password' }).click();
    const refused = page.getByRole('alert').filter({ hasText: 'Password not changed' });
    await refused.waitFor();
    page.off('response', onResponse);
    assert.deepEqual(refreshes, [], 'a wrong password does not trigger a token renewal');
    assert.equal(await page.getByTestId('mfa-status').textContent(), 'off');
    // A wrong code is refused with the API's words; cancelling that attempt clears them.
    await page.getByRole('button', { name: 'Set up 2FA' }).click();
    await page.getByLabel('Code from the app').fill('000000');
    await page.getByRole('button', { name: 'Turn on 2FA' }).click();
    const wrongCode = page.getByRole('alert').filter({ hasText: 'That did not work' });
    await wrongCode.waitFor();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('button', { name: 'Set up 2FA' }).waitFor();
    assert.equal(await wrongCode.count(), 0, 'no stale error once the attempt is cancelled');
    await page.getByRole('button', { name: 'Set up 2FA' }).click();
    const qr = page.getByRole('img', { name: 'QR code for your authenticator app' });
    await qr.waitFor();
    assert.match((await qr.getAttribute('src')) ?? '', /^data:image\/png;base64,/, 'the QR code is drawn locally');
    totpSecret = (await page.getByTestId('totp-secret').innerText()).trim();
    assert.match(totpSecret, /^[A-Z2-7]+=*$/);
    await screenshot(page, 'settings-2fa-setup');
    await assertAccessible(page, 'settings-2fa-setup');
    await page.getByLabel('Code from the app').fill(totpNow(totpSecret));
    await page.getByRole('button', { name: 'Turn on 2FA' }).click();
    await page.getByTestId('recovery-codes').waitFor();
    assert.equal(await page.getByTestId('recovery-codes').locator('code').count(), 10);
    recoveryCode = (await page.getByTestId('recovery-codes').locator('code').first().innerText()).trim();
    // The codes come with the answer; the status follows once the refetched profile arrives.
    await page.getByTestId('mfa-status').filter({ hasText: /^on$/ }).waitFor();
    await screenshot(page, 'settings-recovery-codes');
    await assertAccessible(page, 'settings-recovery-codes');
    await page.getByRole('button', { name: 'I have saved them' }).click();
    await page.getByRole('link', { name: 'Dashboard' }).click();
    await heading(page, 'Dashboard');
    assert.equal(await heapHolds(page, recoveryCode), false, 'the recovery codes are forgotten once saved and left');
    assert.equal(await heapHolds(page, totpSecret), false, 'and so is the setup key');
  });

  it('signs out, then signs in again with a TOTP code', async () => {
    // The server out of reach: the person is told and stays signed in (the cookie would sign them back in anyway).
    await page.route('**/api/v1/auth/logout', (route) => route.abort('connectionrefused'));
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'Could not sign out: you are still signed in' }).waitFor();
    assert.equal((await context.cookies()).filter((c) => c.name === 'aim_rt').length, 1, 'the session cookie is still there');
    // The browser's own report of the refused request is the one console error this step causes.
    const refused = errors.findIndex((e) => e.includes('ERR_CONNECTION_REFUSED'));
    assert.ok(refused >= 0);
    errors.splice(refused, 1);
    await page.unroute('**/api/v1/auth/logout');
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.getByRole('heading', { name: 'Sign in to AIM' }).waitFor();
    assert.equal((await context.cookies()).filter((c) => c.name === 'aim_rt').length, 0, 'logout clears the session cookie');
    await page.getByLabel('Email').fill(admin.email);
    await page.getByRole('textbox', { name: 'Password' }).fill(admin.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const code = page.getByLabel('Authentication code');
    await code.waitFor();
    await screenshot(page, 'login-2fa');
    await assertAccessible(page, 'login-2fa');
    await code.fill('000000');
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('alert').filter({ hasText: 'Could not sign in' }).waitFor();
    await code.fill(nextTotp(totpSecret));
    await page.getByRole('button', { name: 'Verify' }).click();
    await heading(page, 'Dashboard');
  });

  it('keeps the focus inside a dialog, closes it with Escape and gives the focus back to its button', async () => {
    await page.getByRole('link', { name: 'API keys' }).click();
    await heading(page, 'API keys');
    const trigger = page.getByRole('button', { name: 'Create API key' });
    await trigger.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Create an API key' });
    await dialog.waitFor();
    // More Tabs than the dialog has stops, so the focus has to wrap around, then back past the start.
    const names = new Set<string>();
    for (const key of [...Array<string>(16).fill('Tab'), ...Array<string>(16).fill('Shift+Tab')]) {
      await page.keyboard.press(key);
      assert.ok(await page.evaluate<boolean>(`!!document.activeElement.closest('[role="dialog"]')`), `${key} keeps the focus in the dialog`);
      names.add((await focused(page)).name);
    }
    assert.ok(names.size >= 5, `the focus moved between the dialog's controls (${[...names].join(', ')})`);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    assert.ok(await hasFocus(trigger), 'the focus is back on Create API key');
  });

  it('creates an API key and shows it exactly once', async () => {
    await page.getByTestId('empty-state').waitFor();
    await screenshot(page, 'api-keys-empty');
    await page.getByRole('button', { name: 'Create API key' }).click();
    await page.getByLabel('Name').fill('browser-ci');
    await page.getByRole('button', { name: 'Create key' }).click();
    const secret = page.getByTestId('secret-value');
    await secret.waitFor();
    apiKey = (await secret.innerText()).trim();
    assert.match(apiKey, /^ak_(live|test)_[0-9A-Za-z]{49}$/);
    await page.getByRole('button', { name: 'Copy to clipboard' }).waitFor();
    await screenshot(page, 'api-key-created', { fullPage: false });
    await assertAccessible(page, 'api-key-created');
    await page.getByRole('button', { name: 'I have saved it' }).click();
    const row = page.getByTestId(`api-key-${apiKey.slice(0, 16)}`);
    await row.waitFor();
    assert.match(await row.innerText(), /browser-ci/);
    assert.equal((await page.content()).includes(apiKey), false, 'the key is gone from the page once closed');
    await page.getByRole('link', { name: 'Agents' }).click();
    await heading(page, 'Agents');
    assert.equal(await heapHolds(page, apiKey), false, 'and from memory once the page is left');
    await page.getByRole('link', { name: 'API keys' }).click();
    await heading(page, 'API keys');
    await page.reload();
    await row.waitFor();
    assert.equal((await page.content()).includes(apiKey), false, 'and never shown again');
  });

  it('registers an agent with a key pair made in the browser, sending only the public key', async () => {
    const sent: string[] = [];
    page.on('request', (request) => {
      if (request.method() === 'POST' && request.url().endsWith('/api/v1/agents')) sent.push(request.postData() ?? '');
    });
    await page.getByRole('link', { name: 'Agents' }).click();
    await heading(page, 'Agents');
    await screenshot(page, 'agents-empty');
    await page.getByRole('link', { name: 'Register agent' }).click();
    await heading(page, 'Register an agent');
    await page.getByLabel('Name').fill('invoice-bot');
    await page.getByLabel('Description').fill('Reads invoices and files them');
    const capabilities = page.getByRole('textbox', { name: 'Capabilities' });
    await capabilities.fill('files:read');
    await capabilities.press('Enter');
    await capabilities.fill('search');
    await capabilities.press('Enter');
    await screenshot(page, 'agent-register');
    await assertAccessible(page, 'agent-register');
    await page.getByRole('button', { name: 'Generate key and register' }).click();
    await heading(page, 'Agent registered');
    agentId = (await page.getByTestId('agent-id').innerText()).trim();

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download private key' }).click()]);
    assert.equal(download.suggestedFilename(), 'invoice-bot.private.pem');
    agentPrivateKeyPem = await readFile((await download.path())!, 'utf8');
    assert.match(agentPrivateKeyPem, /^-----BEGIN PRIVATE KEY-----\n/);
    await screenshot(page, 'agent-registered');
    await assertAccessible(page, 'agent-registered');

    assert.equal(sent.length, 1);
    const body = JSON.parse(sent[0]!) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ['capabilities', 'description', 'name', 'public_key', 'type']);
    assert.ok(!sent[0]!.includes('PRIVATE'), 'the private key never leaves the browser');
    // The downloaded private key is the one whose public half AIM now holds.
    const derived = createPublicKey(createPrivateKey(agentPrivateKeyPem)).export({ format: 'der', type: 'spki' }).subarray(12).toString('base64');
    assert.equal(derived, body.public_key);
    const keys = await t.http.get<{ keys: Array<{ public_key: string; status: string }> }>(`/api/v1/agents/${agentId}/keys`, { apiKey });
    assert.equal(keys.body.keys[0]?.public_key, derived);
    // Once the person moves on, the page keeps no copy of the private key.
    await page.getByRole('link', { name: 'Open the agent' }).click();
    await heading(page, 'invoice-bot');
    assert.equal(await heapHolds(page, agentPrivateKeyPem.split('\n')[1]!), false, 'the private key is forgotten');
  });

  it('shows a verification and its evidence after a signed call', async () => {
    const privateKey = createPrivateKey(agentPrivateKeyPem);
    const allowed = await t.http.post(`/api/v1/agents/${agentId}/verify-action`, signedAction(agentId, privateKey, 'files:read', '/invoices/2026-11.pdf'), { apiKey });
    assert.equal(allowed.status, 200, allowed.text);
    assert.equal(allowed.body.allowed, true);
    const denied = await t.http.post(`/api/v1/agents/${agentId}/verify-action`, signedAction(agentId, privateKey, 'payments:send', 'acct-42'), { apiKey });
    assert.equal(denied.body.allowed, false);
    // Five replays of one nonce raise a nonce_replays alert for the alerts page.
    const replayed = signedAction(agentId, privateKey, 'search', 'quarterly-report');
    for (let i = 0; i < 6; i += 1) await t.http.post(`/api/v1/agents/${agentId}/verify-action`, replayed, { apiKey });

    // The dashboard's chart is counted by the server (GET /api/v1/verifications/stats): today's bar has them all.
    await page.goto(`${t.url}/`);
    await heading(page, 'Dashboard');
    const chart = page.getByRole('img', { name: /Verifications per day/ });
    await chart.waitFor();
    const today = new Date().toISOString().slice(5, 10);
    assert.match((await chart.getAttribute('aria-label')) ?? '', new RegExp(`${today}: [1-9]\\d* allowed, [1-9]\\d* denied, 5 rejected`));

    await page.goto(`${t.url}/agents/${agentId}`);
    await heading(page, 'invoice-bot');
    const table = page.getByTestId('verifications');
    await table.getByText('files:read').waitFor();
    assert.match((await table.textContent()) ?? '', /allowed/);
    assert.match((await table.textContent()) ?? '', /denied/);
    await screenshot(page, 'agent-detail');
    await table.getByRole('row').filter({ hasText: 'files:read' }).getByRole('button', { name: 'View' }).click();
    const dialog = page.getByRole('dialog', { name: 'Verification evidence' });
    await dialog.waitFor();
    assert.ok((await dialog.innerText()).includes(`${agentId}:files:read:/invoices/2026-11.pdf:`), 'the signed message is shown');
    await screenshot(page, 'verification-evidence', { fullPage: false });
    await assertAccessible(page, 'verification-evidence');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
  });

  it('edits capabilities and suspends the agent', async () => {
    const capabilities = page.getByRole('textbox', { name: 'Capabilities' });
    await capabilities.fill('payments:send@acct-42');
    await capabilities.press('Enter');
    const constraint = page.getByText('payments:send on “acct-42” only');
    await constraint.waitFor();
    await screenshot(page, 'agent-capabilities');
    // Suspending and reactivating reload the agent; the edit not saved yet stays.
    await page.getByRole('button', { name: 'Suspend' }).click();
    await page.getByRole('button', { name: 'Reactivate' }).waitFor();
    const answer = await t.http.post(`/api/v1/agents/${agentId}/verify-action`, signedAction(agentId, createPrivateKey(agentPrivateKeyPem), 'files:read', 'x'), { apiKey });
    assert.equal(answer.body.error, 'agent_suspended');
    await page.getByRole('button', { name: 'Reactivate' }).click();
    await page.getByRole('button', { name: 'Suspend' }).waitFor();
    assert.equal(await constraint.count(), 1, 'the unsaved capability is still there');
    await page.getByRole('button', { name: 'Save capabilities' }).click();
    // Disabled and not loading: saved (a loading button is disabled too, while the PATCH is still on its way).
    await page.getByRole('button', { name: 'Save capabilities' }).and(page.locator(':disabled:not([data-loading])')).waitFor();
    assert.equal(await constraint.count(), 1, 'and shows as saved');
    const agent = await t.http.get<{ capabilities: string[] }>(`/api/v1/agents/${agentId}`, { apiKey });
    assert.deepEqual([...agent.body.capabilities].sort(), ['files:read', 'payments:send@acct-42', 'search']);
    // Any capability, not only the last, can be removed from the keyboard: its remove button is a Tab stop named after it.
    await capabilities.focus();
    let reached = false;
    for (let i = 0; i < 4 && !reached; i += 1) {
      await page.keyboard.press('Shift+Tab');
      reached = (await focused(page)).name === 'Remove search';
    }
    assert.ok(reached, 'Shift+Tab from the field reaches Remove search');
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Remove search' }).waitFor({ state: 'detached' });
    assert.equal(await page.getByRole('button', { name: 'Remove files:read' }).count(), 1, 'the others stay');
    await page.getByRole('button', { name: 'Reset' }).click();
    await page.getByRole('button', { name: 'Remove search' }).waitFor();
  });

  it("opens an agent's audit trail from its page: the log filtered by subject", async () => {
    await page.getByRole('link', { name: 'Audit trail of this agent' }).click();
    await heading(page, 'Audit log');
    assert.equal(await page.getByRole('textbox', { name: 'Subject id' }).inputValue(), agentId);
    await page.getByRole('cell', { name: 'agent.reactivated', exact: true }).waitFor();
    const events = await page.getByRole('cell', { name: /^[a-z_]+\.[a-z_]+$/ }).allTextContents();
    assert.ok(events.includes('agent.suspended') && events.includes('action.verified'), events.join(', '));
    assert.ok(!events.includes('mfa.totp_enabled') && !events.includes('api_key.created'), 'entries about others are filtered out');
  });

  it('acknowledges an alert', async () => {
    await page.getByRole('link', { name: 'Alerts' }).click();
    await heading(page, 'Alerts');
    await page.getByText('nonce replays').waitFor();
    await screenshot(page, 'alerts-open');
    await assertAccessible(page, 'alerts-open');
    await page.getByRole('button', { name: 'Acknowledge' }).click();
    await page.getByText('No open alerts').waitFor();
  });

  it('shows the audit log with a verified chain and exports it', async () => {
    await page.getByRole('link', { name: 'Audit log' }).click();
    await heading(page, 'Audit log');
    assert.match((await page.getByTestId('chain-status').textContent()) ?? '', /Chain intact/);
    await page.getByRole('cell', { name: 'agent.registered', exact: true }).waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export JSONL' }).click()]);
    const lines = (await readFile((await download.path())!, 'utf8')).trim().split('\n');
    assert.ok(lines.length > 5);
    assert.ok(lines.some((line) => (JSON.parse(line) as { event?: string }).event === 'mfa.totp_enabled'));
    const [saved] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Save checkpoint' }).click()]);
    const checkpoint = JSON.parse(await readFile((await saved.path())!, 'utf8')) as { seq: number; hash: string; checkpoint: string };
    const last = JSON.parse(lines.at(-1)!) as { seq: number; hash: string };
    assert.ok(checkpoint.seq >= last.seq, 'the head is at least as new as the export');
    assert.match(checkpoint.hash, /^[0-9a-f]{64}$/);
    assert.equal(checkpoint.checkpoint.split('.').length, 3, 'with its JWS');
    assert.match(saved.suggestedFilename(), /^aim-audit-checkpoint-\d+\.json$/);
    await screenshot(page, 'audit');
  });

  it('revokes the API key, which then stops working', async () => {
    await page.getByRole('link', { name: 'API keys' }).click();
    await heading(page, 'API keys');
    const row = page.getByTestId(`api-key-${apiKey.slice(0, 16)}`);
    // From the keyboard: Enter opens the menu with the focus on its first item, Usage.
    await row.getByRole('button', { name: /Actions for/ }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('menuitem', { name: 'Usage' }).and(page.locator(':focus')).waitFor();
    await page.keyboard.press('Enter');
    const usage = page.getByRole('dialog', { name: 'Usage of browser-ci' });
    await usage.getByText('requests in the last 30 days').waitFor();
    await usage.getByRole('img', { name: /Requests per day/ }).waitFor();
    await screenshot(page, 'api-key-usage', { fullPage: false });
    await assertAccessible(page, 'api-key-usage');
    await page.keyboard.press('Escape');
    await usage.waitFor({ state: 'hidden' });
    // The menu item that opened it is gone: the focus goes back to the row's menu button, not to the top of the page.
    await focusLandsOn(page, 'Actions for browser-ci');
    await row.getByRole('button', { name: /Actions for/ }).click();
    await page.getByRole('menuitem', { name: 'Revoke' }).click();
    await page.getByRole('dialog', { name: 'Revoke this key?' }).waitFor();
    // Checked once the menu has faded out: half-transparent text mid-fade is not what anyone reads.
    await page.getByRole('menu').waitFor({ state: 'detached' });
    await assertAccessible(page, 'api-key-revoke-confirm');
    await page.getByRole('dialog', { name: 'Revoke this key?' }).getByRole('button', { name: 'Revoke' }).click();
    await row.getByText('revoked').waitFor();
    await screenshot(page, 'api-keys');
    const refused = await t.http.get('/api/v1/agents', { apiKey });
    assert.equal(refused.status, 401);
    assert.equal(refused.body.error, 'invalid_api_key');
  });

  it('revokes a leaked automation key together with the key made with it', async () => {
    // The admin (signing in elsewhere with a recovery code) makes an admin key, which makes another, as a thief
    // holding it could.
    const session = await t.http.post<{ access_token: string }>('/api/v1/public/login', { email: admin.email, password: admin.password, totp_code: recoveryCode });
    assert.equal(session.status, 200, session.text);
    const automation = await t.http.post<{ key: string }>('/api/v1/api-keys', { name: 'automation', scopes: ['admin'] }, { token: session.body.access_token });
    assert.equal(automation.status, 201, automation.text);
    const minted = await t.http.post<{ key: string; minted_by: string }>('/api/v1/api-keys', { name: 'made-by-automation' }, { apiKey: automation.body.key });
    assert.equal(minted.status, 201, minted.text);
    await page.reload();
    await heading(page, 'API keys');
    const row = page.getByTestId(`api-key-${automation.body.key.slice(0, 16)}`);
    const child = page.getByTestId(`api-key-${minted.body.key.slice(0, 16)}`);
    await child.getByText(`made with key ${automation.body.key.slice(0, 16)}…`).waitFor();
    await row.getByRole('button', { name: /Actions for/ }).click();
    await page.getByRole('menuitem', { name: 'Revoke' }).click();
    const dialog = page.getByRole('dialog', { name: 'Revoke this key?' });
    await dialog.getByLabel('Also revoke the key made with it, and any made with those').check();
    await page.getByRole('menu').waitFor({ state: 'detached' });
    await assertAccessible(page, 'api-key-revoke-minted-confirm');
    await screenshot(page, 'api-key-revoke-minted-confirm', { fullPage: false });
    await dialog.getByRole('button', { name: 'Revoke' }).click();
    await row.getByText('revoked').waitFor();
    await child.getByText('revoked').waitFor();
    for (const key of [automation.body.key, minted.body.key]) assert.equal((await t.http.get('/api/v1/agents', { apiKey: key })).status, 401);
  });

  it("offers a member no Rotate or Revoke on a key whose scopes their role cannot grant, and says why", async () => {
    // Another admin of the organization (without 2FA, unlike the one signed in above) makes an admin key.
    const otherAdmin = await t.signIn({ role: 'admin', organizationId: admin.organizationId });
    const adminKey = await t.http.post<{ key: string }>('/api/v1/api-keys', { name: 'admin-automation', scopes: ['admin'] }, { token: otherAdmin.accessToken });
    assert.equal(adminKey.status, 201, adminKey.text);
    const member = await t.createUser({ role: 'member', organizationId: admin.organizationId });
    const memberSession = await t.http.post<{ access_token: string }>('/api/v1/public/login', { email: member.email, password: member.password });
    const memberKey = await t.http.post<{ key: string }>('/api/v1/api-keys', { name: 'member-ci' }, { token: memberSession.body.access_token });
    assert.equal(memberKey.status, 201, memberKey.text);

    const other = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    try {
      const memberPage = await other.newPage();
      const memberErrors = watchErrors(memberPage);
      await signInWithForm(memberPage, t.url, member);
      await memberPage.getByRole('link', { name: 'API keys' }).click();
      await heading(memberPage, 'API keys');

      await memberPage.getByTestId(`api-key-${adminKey.body.key.slice(0, 16)}`).getByRole('button', { name: /Actions for/ }).click();
      for (const item of ['Rotate', 'Revoke']) assert.equal(await memberPage.getByRole('menuitem', { name: item }).isDisabled(), true, item);
      await memberPage.getByText("Your role cannot grant this key's scopes, so it cannot rotate or revoke it.").waitFor();
      await memberPage.keyboard.press('Escape');
      await memberPage.getByRole('menu').waitFor({ state: 'detached' });

      await memberPage.getByTestId(`api-key-${memberKey.body.key.slice(0, 16)}`).getByRole('button', { name: /Actions for/ }).click();
      for (const item of ['Rotate', 'Revoke']) assert.equal(await memberPage.getByRole('menuitem', { name: item }).isDisabled(), false, item);
      assert.equal(await memberPage.getByText("Your role cannot grant this key's scopes").count(), 0);
      assert.deepEqual(memberErrors, []);
    } finally {
      await other.close();
    }
    assert.equal((await t.http.get('/api/v1/agents', { apiKey: adminKey.body.key })).status, 200);
  });

  it('lists SDK tokens and revokes one, which then cannot be traded', async () => {
    await page.getByRole('link', { name: 'SDK tokens' }).click();
    await heading(page, 'SDK tokens');
    await page.getByRole('cell', { name: 'laptop-cli', exact: true }).waitFor();
    await screenshot(page, 'sdk-tokens-listed');
    await assertAccessible(page, 'sdk-tokens-listed');
    await page.getByRole('button', { name: 'Revoke laptop-cli' }).click();
    await page.getByRole('dialog', { name: 'Revoke this SDK token?' }).getByRole('button', { name: 'Revoke' }).click();
    await page.getByRole('row').filter({ hasText: 'laptop-cli' }).getByText('revoked').waitFor();
    const traded = await t.http.request('/oauth/token', {
      method: 'POST',
      raw: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: sdkRefreshToken, client_id: 'aim-sdk' }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(traded.status, 400, traded.text);
    assert.equal(traded.body.error, 'invalid_grant');
  });

  it('keeps no token in localStorage or sessionStorage, and the refresh cookie out of reach of scripts', async () => {
    // Evaluated as page source: these tests compile without the DOM library.
    const storage = await page.evaluate<{ local: string[]; session: string[]; cookie: string }>(`(() => {
      const dump = (s) => Array.from({ length: s.length }, (_, i) => s.key(i) + '=' + s.getItem(s.key(i)));
      return { local: dump(localStorage), session: dump(sessionStorage), cookie: document.cookie };
    })()`);
    for (const entry of [...storage.local, ...storage.session]) {
      assert.doesNotMatch(entry, /eyJ|rt_|ak_(live|test)_|token/i, `web storage holds no token: ${entry}`);
    }
    assert.doesNotMatch(storage.cookie, /aim_rt/, 'the refresh cookie is HttpOnly');
    const rt = (await context.cookies()).find((c) => c.name === 'aim_rt');
    assert.ok(rt?.httpOnly);
    assert.equal(rt?.sameSite, 'Strict');
  });

  it('survives a reload by renewing through the cookie', async () => {
    const renewed = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/refresh') && r.status() === 200);
    await page.reload();
    await renewed;
    await heading(page, 'SDK tokens');
  });

  it('disables a user after confirmation, then enables them again', async () => {
    const member = await t.createUser({ role: 'member', organizationId: admin.organizationId });
    await page.goto(`${t.url}/users`);
    await heading(page, 'Users and roles');
    const actions = page.getByRole('button', { name: `Actions for ${member.email}` });
    await actions.click();
    await page.getByRole('menuitem', { name: 'Disable' }).click();
    await page.getByRole('dialog', { name: 'Disable this user?' }).getByRole('button', { name: 'Disable' }).click();
    await page.getByTestId(`status-${member.email}`).waitFor();
    await focusLandsOn(page, `Actions for ${member.email}`);
    const refused = await t.http.post('/api/v1/public/login', { email: member.email, password: member.password });
    assert.equal(refused.status, 401);
    await actions.click();
    await page.getByRole('menuitem', { name: 'Enable' }).click();
    await page.getByRole('dialog', { name: 'Enable this user?' }).getByRole('button', { name: 'Enable' }).click();
    await page.getByTestId(`status-${member.email}`).waitFor({ state: 'detached' });
    assert.equal((await t.http.post('/api/v1/public/login', { email: member.email, password: member.password })).status, 200);
  });

  it('looks right at 1280 and 390 pixels on every main page', async () => {
    const pages: Array<[string, string, string | RegExp]> = [
      ['dashboard', '/', 'Dashboard'],
      ['agents', '/agents', 'Agents'],
      ['agent-detail', `/agents/${agentId}`, 'invoice-bot'],
      ['api-keys', '/api-keys', 'API keys'],
      ['sdk-tokens', '/sdk-tokens', 'SDK tokens'],
      ['audit', '/audit', 'Audit log'],
      ['alerts', '/alerts', 'Alerts'],
      ['users', '/users', 'Users and roles'],
      ['settings', '/settings', 'Settings'],
    ];
    for (const width of WIDTHS) {
      await page.setViewportSize({ width, height: width > 800 ? 860 : 844 });
      for (const [name, path, title] of pages) {
        await page.goto(`${t.url}${path}`);
        await heading(page, title);
        // Each page names itself in the tab (WCAG 2.4.2).
        await titled(page, `${String(title)} · AIM`);
        // Loaded once no placeholder is left.
        await page.locator('.mantine-Skeleton-root').first().waitFor({ state: 'detached' });
        const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
        assert.ok(overflow <= 0, `${name} fits ${width}px without sideways scrolling (${overflow}px over)`);
        await screenshot(page, name);
        await assertAccessible(page, name);
      }
    }
    await page.setViewportSize({ width: 390, height: 844 });
    // Tab stops: their text, left and right edges, and whether they are in the main content.
    const walk = async (count: number) => {
      const stops: Array<{ name: string; left: number; right: number; inMain: boolean }> = [];
      for (let i = 0; i < count; i += 1) {
        await page.keyboard.press('Tab');
        stops.push(
          await page.evaluate(`(() => {
            const el = document.activeElement;
            const r = el.getBoundingClientRect();
            return { name: (el.textContent || el.getAttribute('aria-label') || '').trim().slice(0, 40), left: r.left, right: r.right, inMain: !!el.closest('#content') };
          })()`),
        );
      }
      return stops;
    };
    // Collapsed, the navigation is off-screen: Tab skips it instead of walking eight links no one can see.
    await page.evaluate('document.activeElement && document.activeElement.blur()');
    const offScreen = (await walk(6)).filter((s) => s.left < 0 || s.right > 390);
    assert.deepEqual(offScreen, [], 'every Tab stop is on screen with the navigation collapsed');
    await page.getByRole('button', { name: 'Open navigation' }).click();
    await page.getByRole('link', { name: 'Agents' }).waitFor();
    await assertAccessible(page, 'navigation-open');
    // Open (and slid in: the check above waits for that), it covers the page: Tab walks the header and the
    // navigation, not the content hidden beneath.
    await page.getByRole('button', { name: 'Close navigation' }).focus();
    const open = await walk(12);
    assert.deepEqual(open.filter((s) => s.inMain || s.left < 0 || s.right > 390), [], 'no Tab stop is hidden under the open navigation');
    assert.ok(open.some((s) => s.name === 'Settings'), 'the navigation links are Tab stops');
    await page.getByRole('link', { name: 'Agents' }).click();
    await heading(page, 'Agents');
  });

  it('ran without a console error or CSP violation', () => {
    assert.deepEqual(errors, []);
  });
});

describe('silent renewal', () => {
  let t: TestServer;
  let browser: Browser;
  before(async () => {
    ensureBuilt();
    [t, browser] = await startWithBrowser(() => startTestServer({ webDir: WEB_DIR }));
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  it('renews the access token before it expires, on a fake clock', async () => {
    const viewer = await t.createUser({ role: 'viewer' });
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.clock.install();
    await page.goto(`${t.url}/login`);
    await page.getByLabel('Email').fill(viewer.email);
    await page.getByRole('textbox', { name: 'Password' }).fill(viewer.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await heading(page, 'Dashboard');
    // A viewer sees no admin pages.
    assert.equal(await page.getByRole('link', { name: 'Users' }).count(), 0);
    assert.equal(await page.getByRole('link', { name: 'API keys' }).count(), 0);

    const refreshes: number[] = [];
    page.on('response', (r) => r.url().endsWith('/api/v1/auth/refresh') && refreshes.push(r.status()));
    await page.clock.runFor(13 * 60 * 1000);
    assert.deepEqual(refreshes, [], 'no renewal long before expiry');
    const renewed = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/refresh'));
    await page.clock.runFor(2 * 60 * 1000);
    assert.equal((await renewed).status(), 200);
    await page.getByRole('link', { name: 'Agents' }).click();
    await heading(page, 'Agents');
    await page.getByTestId('empty-state').waitFor();
    assert.deepEqual(errors, []);
    await context.close();
  });
});

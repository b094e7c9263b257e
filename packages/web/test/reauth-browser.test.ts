import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import * as OTPAuth from 'otpauth';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ManualClock, MINUTE } from '../../server/src/core/clock.js';
import { startTestServer, type TestServer, type TestUser } from '../../server/test/support/server.js';
import { assertAccessible, ensureBuilt, screenshot, signInWithForm, startWithBrowser, watchErrors, WEB_DIR } from './browser-support.js';

/** The server's clock: the sign-in grows old by moving it, not by waiting. */
const clock = new ManualClock(Date.now());
const codeAt = (secret: string, ms: number) => new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret) }).generate({ timestamp: ms });

describe('in Chromium, a step that needs a recent sign-in (AIM_REAUTH_WINDOW) asks for the password in a dialog, then goes on', () => {
  let t: TestServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  before(async () => {
    ensureBuilt();
    [t, browser] = await startWithBrowser(() => startTestServer({ webDir: WEB_DIR, clock }));
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  async function signedIn(person: TestUser): Promise<{ page: Page; errors: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    contexts.push(context);
    const page = await context.newPage();
    const errors = watchErrors(page);
    await signInWithForm(page, t.url, person);
    return { page, errors };
  }

  async function openSettings(page: Page): Promise<void> {
    // A reload: the page renews its access token through the cookie, which keeps the sign-in's time.
    await page.goto(`${t.url}/settings`);
    await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
    await page.getByTestId('mfa-status').waitFor();
  }

  async function enabledWithCodes(page: Page): Promise<void> {
    await page.getByTestId('recovery-codes').waitFor();
    assert.equal(await page.getByTestId('recovery-codes').locator('code').count(), 10);
    // The codes come with the answer; the status follows once the refetched profile arrives.
    await page.getByTestId('mfa-status').filter({ hasText: /^on$/ }).waitFor();
  }

  /** The dialog the API client opens on 403 reauthentication_required. */
  const confirmDialog = (page: Page) => page.getByRole('dialog', { name: 'Confirm it is you' });

  it('"Set up 2FA" on an old sign-in: a wrong password is refused in the API\'s words, the right one goes on to the QR code, and enabling asks nothing more', async () => {
    const member = await t.createUser({ role: 'member' });
    const { page, errors } = await signedIn(member);
    clock.advance(11 * MINUTE);
    await openSettings(page);

    await page.getByRole('button', { name: 'Set up 2FA' }).click();
    const dialog = confirmDialog(page);
    await dialog.waitFor();
    assert.equal(await page.getByRole('alert').count(), 0, 'asking for the password is no failure');
    const password = dialog.getByRole('textbox', { name: 'Your password' });
    assert.equal(await password.getAttribute('type'), 'password');
    assert.equal(await password.getAttribute('autocomplete'), 'current-password');
    assert.ok(await password.evaluate((el) => el === el.ownerDocument.activeElement), 'the focus is in the password field');
    await screenshot(page, 'confirm-identity', { fullPage: false });
    await assertAccessible(page, 'confirm-identity');

    await password.fill('not my password, sorry');
    await dialog.getByRole('button', { name: 'Continue' }).click();
    await dialog.getByRole('alert').filter({ hasText: 'the password is wrong' }).waitFor();
    assert.equal(await password.inputValue(), '', 'a refused password is not kept in the field');

    await password.fill(member.password);
    await dialog.getByRole('button', { name: 'Continue' }).click();
    await dialog.waitFor({ state: 'hidden' });
    const secret = (await page.getByTestId('totp-secret').innerText()).trim();
    assert.equal(await page.getByRole('alert').count(), 0);
    // The session's sign-in time is now: enabling needs no second confirmation.
    await page.getByLabel('Code from the app').fill(codeAt(secret, clock.now()));
    await page.getByRole('button', { name: 'Turn on 2FA' }).click();
    await enabledWithCodes(page);
    assert.equal(await confirmDialog(page).count(), 0);
    assert.deepEqual(errors, []);
  });

  it('creating an API key on an old sign-in: Cancel makes nothing and says why; confirming shows the key once', async () => {
    const admin = await t.createUser({ role: 'admin' });
    const { page, errors } = await signedIn(admin);
    clock.advance(11 * MINUTE);
    await page.getByRole('link', { name: 'API keys' }).click();
    await page.getByRole('heading', { level: 1, name: 'API keys' }).waitFor();

    const create = async () => {
      await page.getByRole('button', { name: 'Create API key' }).click();
      await page.getByLabel('Name').fill('after-lunch');
      await page.getByRole('button', { name: 'Create key' }).click();
      const field = confirmDialog(page).getByRole('textbox', { name: 'Your password' });
      await field.waitFor();
      // On top of the Create dialog, and the keyboard is in it, not left in the dialog beneath.
      await page.waitForFunction("document.activeElement?.getAttribute('autocomplete') === 'current-password'");
    };
    await create();
    await confirmDialog(page).getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('alert').filter({ hasText: 'Not done: this step needs your password again' }).waitFor();
    const none = await t.http.post<{ access_token: string }>('/api/v1/public/login', { email: admin.email, password: admin.password });
    const listed = await t.http.get<{ api_keys: unknown[] }>('/api/v1/api-keys', { token: none.body.access_token });
    assert.equal(listed.body.api_keys.length, 0, 'no key was made');

    await page.keyboard.press('Escape');
    await create();
    await page.keyboard.type(admin.password);
    await page.keyboard.press('Enter');
    await confirmDialog(page).waitFor({ state: 'hidden' });
    const secret = page.getByTestId('secret-value');
    await secret.waitFor();
    assert.match((await secret.innerText()).trim(), /^ak_(live|test)_/);
    assert.deepEqual(errors, []);
  });

  it('registering an agent on an old sign-in: once confirmed, the same key pair is registered and its private key offered', async () => {
    const admin = await t.createUser({ role: 'admin' });
    const { page, errors } = await signedIn(admin);
    clock.advance(11 * MINUTE);
    const sent: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST' && r.url().endsWith('/api/v1/agents')) sent.push(r.postData() ?? '');
    });
    await page.goto(`${t.url}/agents/new`);
    await page.getByRole('heading', { level: 1, name: 'Register an agent' }).waitFor();
    await page.getByLabel('Name').fill('late-bot');
    await page.getByRole('button', { name: 'Generate key and register' }).click();
    const dialog = confirmDialog(page);
    await dialog.getByRole('textbox', { name: 'Your password' }).fill(admin.password);
    await dialog.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { level: 1, name: 'Agent registered' }).waitFor();
    assert.equal(sent.length, 2, 'refused once, then sent again');
    assert.equal(sent[0], sent[1], 'the same public key both times');
    const agentId = (await page.getByTestId('agent-id').innerText()).trim();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download private key' }).click()]);
    const privatePem = await readFile((await download.path())!, 'utf8');
    const stored = await t.http.post<{ access_token: string }>('/api/v1/public/login', { email: admin.email, password: admin.password });
    const keys = await t.http.get<{ keys: Array<{ public_key: string }> }>(`/api/v1/agents/${agentId}/keys`, { token: stored.body.access_token });
    const derived = createPublicKey(createPrivateKey(privatePem)).export({ format: 'der', type: 'spki' }).subarray(12).toString('base64');
    assert.equal(keys.body.keys[0]?.public_key, derived, 'the downloaded private key is the registered one');
    assert.deepEqual(errors, []);
  });
});

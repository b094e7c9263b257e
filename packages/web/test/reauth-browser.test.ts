import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as OTPAuth from 'otpauth';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ManualClock, MINUTE } from '../../server/src/core/clock.js';
import { startTestServer, type TestServer, type TestUser } from '../../server/test/support/server.js';
import { assertAccessible, ensureBuilt, screenshot, signInWithForm, startWithBrowser, watchErrors, WEB_DIR } from './browser-support.js';

/** The server's clock: the sign-in grows old by moving it, not by waiting. */
const clock = new ManualClock(Date.now());
const codeAt = (secret: string, ms: number) => new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret) }).generate({ timestamp: ms });

describe('Settings → 2FA in Chromium when the sign-in is older than AIM_REAUTH_WINDOW: the password is asked for in the same flow', () => {
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

  it('"Set up 2FA" on an old sign-in asks for the password; a wrong one is refused in the API\'s words, the right one goes on to the QR code and enables', async () => {
    const member = await t.createUser({ role: 'member' });
    const { page, errors } = await signedIn(member);
    clock.advance(11 * MINUTE);
    await openSettings(page);

    await page.getByRole('button', { name: 'Set up 2FA' }).click();
    const confirm = page.getByRole('form', { name: 'Confirm your password to set up two-factor authentication' });
    await confirm.waitFor();
    assert.match((await confirm.getByRole('status').textContent()) ?? '', /Enter your password/);
    assert.equal(await page.getByRole('alert').count(), 0, 'asking for the password is no failure');
    const password = confirm.getByLabel('Your password');
    assert.equal(await password.getAttribute('type'), 'password');
    assert.equal(await password.getAttribute('autocomplete'), 'current-password');
    await screenshot(page, 'settings-2fa-reauth');
    await assertAccessible(page, 'settings-2fa-reauth');

    await password.fill('not my password, sorry');
    await confirm.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('alert').filter({ hasText: 'the password is wrong' }).waitFor();

    await password.fill(member.password);
    await confirm.getByRole('button', { name: 'Continue' }).click();
    const secret = (await page.getByTestId('totp-secret').innerText()).trim();
    assert.equal(await page.getByRole('alert').count(), 0, 'the refusal is gone once the password was right');
    // Still past the window: the form sends the password with the code too, without asking again.
    await page.getByLabel('Code from the app').fill(codeAt(secret, clock.now()));
    await page.getByRole('button', { name: 'Turn on 2FA' }).click();
    await enabledWithCodes(page);
    assert.deepEqual(errors, []);
  });

  it('a sign-in that grows old between setup and enable: the password field appears beside the code, and enabling goes through with it', async () => {
    const member = await t.createUser({ role: 'member' });
    const { page, errors } = await signedIn(member);
    await openSettings(page);
    await page.getByRole('button', { name: 'Set up 2FA' }).click();
    const secret = (await page.getByTestId('totp-secret').innerText()).trim();

    clock.advance(11 * MINUTE);
    const form = page.getByRole('form', { name: 'Turn on two-factor authentication' });
    await form.getByLabel('Code from the app').fill(codeAt(secret, clock.now()));
    await form.getByRole('button', { name: 'Turn on 2FA' }).click();
    const password = form.getByLabel('Your password');
    await password.waitFor();
    assert.equal(await page.getByRole('alert').count(), 0);
    assert.equal(await form.getByLabel('Code from the app').inputValue(), codeAt(secret, clock.now()), 'the code stays typed');
    await password.fill(member.password);
    await form.getByRole('button', { name: 'Turn on 2FA' }).click();
    await enabledWithCodes(page);
    assert.deepEqual(errors, []);
  });
});

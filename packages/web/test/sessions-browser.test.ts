import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { startTestServer, type TestServer, type TestUser } from '../../server/test/support/server.js';
import { assertAccessible, ensureBuilt, screenshot, startWithBrowser, signInWithForm, watchErrors, WEB_DIR, WIDTHS } from './browser-support.js';

const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0';
const SAFARI_IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1';

describe('Settings → Sessions in Chromium: see where you are signed in, sign the others out', () => {
  let t: TestServer;
  let browser: Browser;
  let user: TestUser;
  const contexts: BrowserContext[] = [];

  before(async () => {
    ensureBuilt();
    [t, browser] = await startWithBrowser(() => startTestServer({ webDir: WEB_DIR }));
    user = await t.createUser({ role: 'member' });
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  async function signedIn(userAgent: string): Promise<{ page: Page; errors: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, userAgent });
    contexts.push(context);
    const page = await context.newPage();
    const errors = watchErrors(page);
    await signInWithForm(page, t.url, user);
    return { page, errors };
  }

  async function openSessions(page: Page, count: number) {
    await page.goto(`${t.url}/settings`);
    await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
    const rows = page.getByRole('table', { name: 'Your sessions' }).getByTestId('session-row');
    await rowCount(rows, count);
    return rows;
  }

  /** Waits until the list shows `count` rows (the page's CSP rules out waitForFunction's string form). */
  async function rowCount(rows: Locator, count: number): Promise<void> {
    await rows.nth(count - 1).waitFor();
    await rows.nth(count).waitFor({ state: 'detached' });
  }

  it('two browsers: one is "This session", signing out the other sends it to the login page at its next navigation', async () => {
    const laptop = await signedIn(FIREFOX_LINUX);
    const phone = await signedIn(SAFARI_IPHONE);

    const rows = await openSessions(laptop.page, 2);
    const current = rows.filter({ hasText: 'This session' });
    assert.equal(await current.count(), 1, 'exactly one row is the current session');
    assert.match(await current.innerText(), /Firefox on Linux/);
    assert.equal(await current.getByRole('button').count(), 0, 'the current session has no Sign out button (Settings has the header one)');
    assert.match(await rows.filter({ hasNotText: 'This session' }).innerText(), /Safari on iPhone/);

    for (const width of WIDTHS) {
      await laptop.page.setViewportSize({ width, height: width > 800 ? 860 : 844 });
      await openSessions(laptop.page, 2);
      await screenshot(laptop.page, 'settings-sessions');
      const overflow = await laptop.page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
      assert.ok(overflow <= 0, `Settings fits ${width}px without sideways scrolling (${overflow}px over)`);
      await assertAccessible(laptop.page, 'settings-sessions');
    }

    // By keyboard: focus the row's button, Enter opens the confirmation with the focus on its confirm button, Enter.
    const signOut = laptop.page.getByRole('button', { name: 'Sign out Safari on iPhone (127.0.0.1)' });
    await signOut.focus();
    await laptop.page.keyboard.press('Enter');
    const dialog = laptop.page.getByRole('dialog', { name: 'Sign out this session?' });
    await dialog.waitFor();
    await assertAccessible(laptop.page, 'settings-sessions-confirm');
    const confirm = dialog.getByRole('button', { name: 'Sign out', exact: true });
    assert.equal(await confirm.and(laptop.page.locator(':focus')).count(), 1, 'the confirm button has the focus');
    await laptop.page.keyboard.press('Enter');
    await dialog.waitFor({ state: 'detached' });
    await rowCount(rows, 1);
    assert.match(await rows.innerText(), /this session/i);

    // The phone's page still holds an access token in memory: its next navigation meets the revocation (401),
    // the cookie refresh fails too, and the app sends it to sign in again.
    await phone.page.getByRole('link', { name: 'Settings' }).click();
    await phone.page.waitForURL(/\/login/);
    await phone.page.getByRole('heading', { name: 'Sign in to AIM' }).waitFor();
    assert.deepEqual(laptop.errors, []);
  });

  it('"Sign out all other sessions" leaves only this one', async () => {
    const desk = await signedIn(FIREFOX_LINUX);
    const others = [await signedIn(SAFARI_IPHONE), await signedIn('aim-cli/1.4.0 node/22')];
    const rows = await openSessions(desk.page, 4);
    assert.match(await rows.allInnerTexts().then((t) => t.join('\n')), /aim-cli 1\.4\.0/, 'a non-browser client shows its product name');
    await desk.page.getByRole('button', { name: 'Sign out all other sessions' }).click();
    const dialog = desk.page.getByRole('dialog', { name: 'Sign out all other sessions?' });
    await dialog.getByRole('button', { name: 'Sign out', exact: true }).click();
    await dialog.waitFor({ state: 'detached' });
    await rowCount(rows, 1);
    assert.equal(await desk.page.getByRole('button', { name: 'Sign out all other sessions' }).count(), 0, 'nothing left to sign out');
    for (const other of others) {
      await other.page.reload();
      await other.page.waitForURL(/\/login/);
    }
    assert.deepEqual(desk.errors, []);
  });

  it('a password change with "Also revoke my SDK tokens" says what it ended, and the token stops', async () => {
    const person = await t.createUser({ role: 'member' });
    const login = await t.http.post<{ access_token: string }>('/api/v1/public/login', { email: person.email, password: person.password });
    const sdk = await t.http.post<{ refresh_token: string }>('/api/v1/sdk-tokens', { name: 'ci' }, { token: login.body.access_token });
    assert.equal(sdk.status, 201, sdk.text);
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    contexts.push(context);
    const page = await context.newPage();
    const errors = watchErrors(page);
    await signInWithForm(page, t.url, person);
    await page.goto(`${t.url}/settings`);
    await page.getByRole('textbox', { name: 'Current password' }).fill(person.password);
    await page.getByRole('textbox', { name: 'New password', exact: true }).fill('a brand new long passphrase');
    await page.getByRole('textbox', { name: 'Repeat the new password' }).fill('a brand new long passphrase');
    const revoke = page.getByRole('checkbox', { name: 'Also revoke my SDK tokens' });
    assert.equal(await revoke.isChecked(), false, 'off unless asked: automation keeps working');
    await revoke.check();
    await page.getByRole('button', { name: 'Change password' }).click();
    const done = page.getByRole('status').filter({ hasText: 'Password changed.' });
    await done.waitFor();
    assert.match(await done.innerText(), /1 other session\(s\) were signed out\.\s+1 SDK token\(s\) were revoked\./);
    assert.equal(await revoke.isChecked(), false, 'the choice is not carried over to the next change');
    const grant = await t.http.postForm('/oauth/token', { grant_type: 'refresh_token', client_id: 'aim-sdk', refresh_token: sdk.body.refresh_token });
    assert.equal(grant.status, 400, grant.text);
    assert.deepEqual(errors, []);
  });
});

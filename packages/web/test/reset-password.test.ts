import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { startTestServer, type TestServer, type TestUser } from '../../server/test/support/server.js';
import { assertAccessible, ensureBuilt, screenshot, startWithBrowser, watchErrors, WEB_DIR } from './browser-support.js';

const NEW_PASSWORD = 'a brand new long passphrase';

async function heading(page: Page, name: string | RegExp): Promise<void> {
  await page.getByRole('heading', { level: 1, name }).waitFor();
}

async function hasFocus(locator: Locator): Promise<boolean> {
  return (await locator.and(locator.page().locator(':focus')).count()) === 1;
}

async function signIn(page: Page, url: string, email: string, password: string): Promise<void> {
  await page.goto(`${url}/login`);
  await page.getByLabel('Email').fill(email);
  await page.getByRole('textbox', { name: 'Password' }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await heading(page, 'Dashboard');
}

/** Evaluated as page source: these tests compile without the DOM library. */
function webStorage(page: Page): Promise<string[]> {
  return page.evaluate<string[]>(`[localStorage, sessionStorage].flatMap((s) => Array.from({ length: s.length }, (_, i) => s.key(i)))`);
}

/** An admin hands a member a one-time link (Users page); the member sets a new password with it, signed out. */
describe('password reset link in Chromium', () => {
  let t: TestServer;
  let browser: Browser;
  let admin: TestUser;
  let member: TestUser;
  let adminContext: BrowserContext;
  let page: Page;
  let errors: string[];
  let link = '';

  before(async () => {
    ensureBuilt();
    [t, browser] = await startWithBrowser(() => startTestServer({ webDir: WEB_DIR }));
    admin = await t.createUser({ role: 'admin' });
    member = await t.createUser({ role: 'member', organizationId: admin.organizationId });
    adminContext = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    page = await adminContext.newPage();
    errors = watchErrors(page);
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  it('an admin makes a reset link after a confirmation and sees it once', async () => {
    await signIn(page, t.url, admin.email, admin.password);
    await page.goto(`${t.url}/users`);
    await heading(page, 'Users and roles');
    const actions = page.getByRole('button', { name: `Actions for ${member.email}` });
    await actions.click();
    await page.getByRole('menuitem', { name: 'Reset password' }).click();
    const confirm = page.getByRole('dialog', { name: 'Make a password reset link?' });
    await confirm.waitFor();
    assert.match(await confirm.innerText(), new RegExp(member.email.replace(/[.+]/g, '\\$&')));
    await page.getByRole('menu').waitFor({ state: 'detached' });
    await assertAccessible(page, 'users-reset-confirm');
    await confirm.getByRole('button', { name: 'Make link' }).click();

    const dialog = page.getByRole('dialog', { name: 'Password reset link' });
    await dialog.waitFor();
    link = (await dialog.getByTestId('secret-value').innerText()).trim();
    assert.match(link, new RegExp(`^${t.url.replace(/[.]/g, '\\.')}/reset-password#token=pr_[0-9a-f-]{36}\\.[A-Za-z0-9_-]+$`));
    const warning = await dialog.getByRole('status').innerText();
    assert.match(warning, /Send it to them privately; it works once, until .+; making a new link cancels this one/);
    await dialog.getByRole('button', { name: 'Copy to clipboard' }).waitFor();
    await confirm.waitFor({ state: 'hidden' });
    await assertAccessible(page, 'users-reset-link');
    await screenshot(page, 'users-reset-link', { fullPage: false });
    assert.ok(await page.evaluate<boolean>(`!!document.activeElement.closest('[role="dialog"]')`), 'the focus is in the link dialog');

    await dialog.getByRole('button', { name: 'Done' }).click();
    await dialog.waitFor({ state: 'hidden' });
    assert.equal((await page.content()).includes(link), false, 'the link is gone from the page once closed');
    // Asking again starts with a new confirmation, not the old link (cancelled here: confirming would replace it).
    await actions.click();
    await page.getByRole('menuitem', { name: 'Reset password' }).click();
    await confirm.waitFor();
    assert.equal(await page.getByTestId('secret-value').count(), 0);
    assert.equal((await page.content()).includes(link), false, 'and never shown again');
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await confirm.waitFor({ state: 'hidden' });
  });

  it('offers no reset for a disabled user, nor for yourself', async () => {
    const session = await t.http.post<{ access_token: string }>('/api/v1/public/login', { email: admin.email, password: admin.password });
    const disabled = await t.createUser({ role: 'viewer', organizationId: admin.organizationId });
    assert.equal((await t.http.post(`/api/v1/users/${disabled.id}/disable`, undefined, { token: session.body.access_token })).status, 200);
    await page.reload();
    await heading(page, 'Users and roles');
    await page.getByTestId(`status-${disabled.email}`).waitFor();
    await page.getByRole('button', { name: `Actions for ${disabled.email}` }).click();
    const item = page.getByRole('menuitem', { name: 'Reset password' });
    await item.waitFor();
    assert.ok(await item.isDisabled(), 'Reset password is disabled for a disabled account');
    await page.keyboard.press('Escape');
    await page.getByRole('menu').waitFor({ state: 'detached' });
    assert.equal(await page.getByRole('button', { name: `Actions for ${admin.email}` }).count(), 0);
  });

  it('the member opens the link in a fresh browser at 390 px, sets a new password and signs in with it', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const p = await context.newPage();
    const pageErrors = watchErrors(p);
    const sent: Array<{ authorization: string | undefined; cookie: string | undefined }> = [];
    p.on('request', (r) => {
      if (r.url().endsWith('/api/v1/public/password-reset')) sent.push({ authorization: r.headers().authorization, cookie: r.headers().cookie });
    });
    await p.goto(link);
    await heading(p, 'Set a new password');
    await p.waitForFunction('location.hash === ""');
    assert.equal(p.url(), `${t.url}/reset-password`, 'the token is gone from the address bar');
    assert.equal(await p.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth') <= 0, true, 'fits 390 px');
    await screenshot(p, 'reset-password');
    await assertAccessible(p, 'reset-password');

    // Keyboard: the focus starts in New password; Tab walks through the toggle to Confirm, its toggle, then the button.
    const password = p.getByRole('textbox', { name: 'New password', exact: true });
    const again = p.getByRole('textbox', { name: 'Confirm new password' });
    assert.ok(await hasFocus(password), 'New password has the focus on arrival');
    await p.keyboard.type(NEW_PASSWORD);
    await p.keyboard.press('Tab');
    assert.ok(await hasFocus(p.getByRole('button', { name: 'Show password' }).first()), 'Tab reaches the show-password toggle');
    await p.keyboard.press('Tab');
    assert.ok(await hasFocus(again), 'Tab reaches Confirm new password');
    await p.keyboard.type(`${NEW_PASSWORD}!`);
    await p.keyboard.press('Enter');
    await p.getByText('The two passwords differ').waitFor();
    assert.equal(await again.getAttribute('aria-invalid'), 'true');
    assert.ok(await hasFocus(again), 'the field to fix has the focus');
    await screenshot(p, 'reset-password-mismatch');
    await assertAccessible(p, 'reset-password-mismatch');

    // Too short: refused here, before the server is asked.
    await password.fill('short');
    await again.fill('short');
    await p.getByRole('button', { name: 'Set new password' }).click();
    await p.getByText('Use at least 12 characters').waitFor();
    assert.deepEqual(sent, [], 'nothing was sent while the form was wrong');

    await password.fill(NEW_PASSWORD);
    await again.fill(NEW_PASSWORD);
    await again.press('Enter');
    const done = p.getByRole('status').filter({ hasText: 'Password changed for' });
    await done.waitFor();
    assert.match(await done.innerText(), new RegExp(`Password changed for ${member.email.replace(/[.+]/g, '\\$&')}\\. Sign in with your new password\\.`));
    assert.deepEqual(sent, [{ authorization: undefined, cookie: undefined }], 'one call, made without a session');
    await screenshot(p, 'reset-password-done');
    await assertAccessible(p, 'reset-password-done');
    assert.deepEqual(await webStorage(p), [], 'nothing in localStorage or sessionStorage');

    await p.getByRole('link', { name: 'Go to sign in' }).click();
    await p.getByRole('heading', { name: 'Sign in to AIM' }).waitFor();
    await p.getByText('Forgot your password? An admin of your organization can give you a reset link.').waitFor();
    await p.getByLabel('Email').fill(member.email);
    await p.getByRole('textbox', { name: 'Password' }).fill(NEW_PASSWORD);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await heading(p, 'Dashboard');
    assert.deepEqual(pageErrors, []);
    await context.close();
  });

  it('the same link a second time shows the API error_description and says to ask for a new link', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const p = await context.newPage();
    const pageErrors = watchErrors(p);
    await p.goto(link);
    await heading(p, 'Set a new password');
    await p.getByRole('textbox', { name: 'New password', exact: true }).fill(`${NEW_PASSWORD} again`);
    await p.getByRole('textbox', { name: 'Confirm new password' }).fill(`${NEW_PASSWORD} again`);
    const [answer] = await Promise.all([
      p.waitForResponse((r) => r.url().endsWith('/api/v1/public/password-reset')),
      p.getByRole('button', { name: 'Set new password' }).click(),
    ]);
    assert.equal(answer.status(), 400);
    const body = (await answer.json()) as { error: string; error_description: string };
    assert.equal(body.error, 'invalid_grant');
    const alert = p.getByRole('alert');
    await alert.waitFor();
    assert.ok((await alert.innerText()).includes(body.error_description), 'the API description is shown');
    await p.getByText('An admin of your organization can make you a new one').waitFor();
    assert.equal(await p.getByRole('textbox', { name: 'New password', exact: true }).count(), 0, 'no form for a dead link');
    await screenshot(p, 'reset-password-used');
    await assertAccessible(p, 'reset-password-used');
    // The browser logs the 400 itself; nothing else may be logged.
    assert.deepEqual(pageErrors.filter((e) => !/status of 400/.test(e)), []);
    await context.close();
  });

  it('without a link, the page says to ask an admin for one', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const p = await context.newPage();
    const pageErrors = watchErrors(p);
    await p.goto(`${t.url}/reset-password`);
    await heading(p, 'Set a new password');
    await p.getByText('This page needs the link an admin gave you; ask them for a new one').waitFor();
    assert.equal(await p.getByRole('textbox').count(), 0);
    await screenshot(p, 'reset-password-no-link');
    await assertAccessible(p, 'reset-password-no-link');
    assert.deepEqual(pageErrors, []);
    await context.close();
  });

  it('ran the admin pages without a console error or CSP violation', () => {
    assert.deepEqual(errors, []);
  });
});

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export const WEB_DIR = fileURLToPath(new URL('../dist', import.meta.url));
export const SCREENSHOTS = fileURLToPath(new URL('../../../test-artifacts/screenshots/', import.meta.url));
export const CHROMIUM = process.env.AIM_TEST_CHROMIUM ?? '/usr/bin/chromium';

/** The tests drive the real build; `npm install` makes it, and a fresh checkout gets one here. */
export function ensureBuilt(): void {
  if (existsSync(`${WEB_DIR}/index.html`)) return;
  execFileSync('npm', ['run', 'build', '-w', '@aim/web'], { stdio: 'inherit', cwd: fileURLToPath(new URL('../../..', import.meta.url)) });
}

/** Debian's Chromium, headless, with nothing phoning home. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (.ci/run does)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/**
 * Starts a server and the browser side by side. If either fails, the other is closed before the error is thrown,
 * so a missing browser fails the suite at once instead of leaving a server that keeps the run alive.
 */
export async function startWithBrowser<T extends { close(): Promise<void> }>(start: () => Promise<T>): Promise<[T, Browser]> {
  const [server, browser] = await Promise.allSettled([start(), launchChromium()]);
  if (server.status === 'fulfilled' && browser.status === 'fulfilled') return [server.value, browser.value];
  if (server.status === 'fulfilled') await server.value.close();
  if (browser.status === 'fulfilled') await browser.value.close();
  throw server.status === 'rejected' ? server.reason : (browser as PromiseRejectedResult).reason;
}

/** Console errors and page errors, CSP violations included: a page that works under the CSP logs none. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && !/status of (401|403|404|409)/.test(message.text())) errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  return errors;
}

export const WIDTHS = [1280, 390] as const;

/** A screenshot for reviewers at the current viewport width: the whole page, or the viewport when a dialog is open. */
export async function screenshot(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const width = page.viewportSize()?.width ?? 0;
  await page.screenshot({ path: `${SCREENSHOTS}${name}-${width}.png`, fullPage: options.fullPage ?? true });
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const WCAG_21_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/**
 * Fails on any serious or critical WCAG 2.1 A/AA violation axe-core finds in the page as it is now. axe is evaluated
 * through DevTools, which the page's CSP does not govern: `addScriptTag` would add an inline script that
 * `script-src 'self'` refuses (and logs as a console error), so the pages are checked under their real CSP.
 */
export async function assertAccessible(page: Page, name: string): Promise<void> {
  // At rest: half-way through a fade, text is half-transparent, which is not what anyone reads. Endless ones
  // (skeletons, spinners) never finish.
  await page.evaluate(`Promise.all(document.getAnimations()
    .filter((a) => a.effect && a.effect.getComputedTiming().endTime !== Infinity).map((a) => a.finished.catch(() => null)))`);
  if (!(await page.evaluate<boolean>('typeof window.axe === "object"'))) await page.evaluate(AXE_SOURCE);
  const found = await page.evaluate<string[]>(`axe.run(document, { runOnly: { type: 'tag', values: ${JSON.stringify(WCAG_21_AA)} } }).then((r) =>
    r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .flatMap((v) => v.nodes.map((n) => v.id + ' at ' + n.target.join(' ') + ': ' + n.failureSummary.replace(/\\s+/g, ' '))))`);
  const width = page.viewportSize()?.width ?? 0;
  assert.deepEqual(found, [], `${name} at ${width}px: serious or critical accessibility violations`);
}

/** What has the focus: its name (aria-label, label or text) and whether a focus ring shows (an outline or a box-shadow). */
export function focused(page: Page): Promise<{ name: string; ring: boolean }> {
  return page.evaluate(`(() => {
    const el = document.activeElement;
    const style = getComputedStyle(el);
    const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0 && style.outlineColor !== 'rgba(0, 0, 0, 0)';
    const name = el.getAttribute('aria-label') || (el.labels && el.labels[0] ? el.labels[0].textContent : el.textContent) || '';
    return { name: name.trim(), ring: outline || style.boxShadow !== 'none' };
  })()`);
}

/**
 * Whether the page's JavaScript heap still holds `secret` anywhere reachable, after a full garbage collection: a
 * secret shown once must be gone once no page shows it, not left in a cache for minutes.
 */
export async function heapHolds(page: Page, secret: string): Promise<boolean> {
  const cdp = await page.context().newCDPSession(page);
  let snapshot = '';
  cdp.on('HeapProfiler.addHeapSnapshotChunk', ({ chunk }) => {
    snapshot += chunk;
  });
  try {
    await cdp.send('HeapProfiler.collectGarbage');
    await cdp.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
  } finally {
    await cdp.detach();
  }
  return snapshot.includes(secret);
}

/** Signs in through the login form at `baseUrl` (a person without 2FA) and waits for the dashboard. */
export async function signInWithForm(page: Page, baseUrl: string, person: { email: string; password: string }): Promise<void> {
  await page.goto(`${baseUrl}/login`);
  await page.getByLabel('Email').fill(person.email);
  await page.getByRole('textbox', { name: 'Password' }).fill(person.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
}

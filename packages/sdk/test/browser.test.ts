import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { startLiveServer, type LiveServer } from './live-server.js';

const DIST = fileURLToPath(new URL('../dist/', import.meta.url));

/**
 * The SDK's browser entry, unbundled, in headless Chromium: WebCrypto Ed25519 keys, fetch, no node: imports.
 * The page's origin is answered by the live server; `/sdk/*` serves the built SDK from the same origin.
 */
describe('the SDK in a browser', () => {
  let aim: LiveServer;
  let browser: Browser;
  let apiKey: string;
  before(async () => {
    aim = await startLiveServer();
    apiKey = (await aim.adminClient.apiKeys.create({ name: 'browser' })).key;
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  });
  after(async () => {
    await browser?.close();
    await aim?.stop();
  });

  it('signs in, registers an agent with a key generated in the page, and verifies a signed action', async () => {
    const page = await browser.newPage();
    await page.route('https://aim.example.com/**', async (route) => {
      const url = new URL(route.request().url());
      if (url.pathname.startsWith('/sdk/')) {
        const body = await readFile(DIST + url.pathname.slice('/sdk/'.length)).catch(() => undefined);
        await route.fulfill(body ? { status: 200, contentType: 'text/javascript', body } : { status: 404 });
        return;
      }
      await route.fulfill({ response: await route.fetch({ url: aim.url + url.pathname + url.search }) });
    });
    await page.goto('https://aim.example.com/health');
    const result = (await page.evaluate(
      `(async () => {
        const { AIMClient, ActionDeniedError } = await import('/sdk/index.js');
        const person = new AIMClient({ baseUrl: location.origin, auth: { email: ${JSON.stringify(aim.admin.email)}, password: ${JSON.stringify(aim.admin.password)} } });
        const me = await person.me();
        const keyed = new AIMClient({ baseUrl: location.origin, auth: { apiKey: ${JSON.stringify(apiKey)} } });
        const agent = await keyed.agents.register({ name: 'browser-agent', capabilities: ['search'] });
        const decision = await agent.verifyAction('search', 'docs/handbook');
        let denied = null;
        try { await agent.verifyAction('files:delete', 'x'); } catch (e) { denied = e instanceof ActionDeniedError ? e.decision.reason : String(e); }
        return { email: me.email, allowed: decision.allowed, agentId: agent.id, decisionAgent: decision.agent_id, pem: agent.identity.private_key.split('\\n')[0], denied };
      })()`,
    )) as { email: string; allowed: boolean; agentId: string; decisionAgent: string; pem: string; denied: string | null };
    assert.equal(result.email, aim.admin.email);
    assert.equal(result.allowed, true);
    assert.equal(result.decisionAgent, result.agentId);
    assert.equal(result.pem, '-----BEGIN PRIVATE KEY-----');
    assert.equal(result.denied, 'capability_missing');
  });
});

import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { LogCapture } from '../../test/support/logs.js';
import { WebhookReceiver } from '../../test/support/webhook-receiver.js';
import { within } from '../../test/support/within.js';
import { ManualClock } from '../core/clock.js';
import type { OrgId } from '../core/ids.js';
import { createLogger } from '../core/logger.js';
import { systemRandom } from '../core/random.js';
import type { Alert } from './types.js';
import { WebhookNotifier } from './webhook.js';

const secret = 'aim-test-webhook-secret-abcdefghij';
const clock = new ManualClock(Date.UTC(2026, 5, 1));
const alert: Alert = {
  id: '6b0f2c1e-8d3a-4f5b-9c7d-1e2f3a4b5c6d',
  organizationId: 'org-1' as OrgId,
  type: 'nonce_replays',
  status: 'open',
  principal: { type: 'agent', id: 'agent-7' },
  evidence: { replays: 12 },
  latestEvidence: { replays: 12 },
  count: 1,
  firstSeenAt: clock.now(),
  lastSeenAt: clock.now(),
  acknowledgedAt: null,
  acknowledgedBy: null,
  resolvedAt: null,
  resolvedBy: null,
};

function verify(headers: Record<string, unknown>, body: string): boolean {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(headers['x-aim-signature']));
  if (!match) return false;
  const expected = createHmac('sha256', secret).update(`${match[1]}.${body}`).digest();
  return timingSafeEqual(expected, Buffer.from(match[2]!, 'hex'));
}

describe('webhook delivery against a real HTTP receiver', () => {
  let receiver: WebhookReceiver;
  const logs = new LogCapture();
  const notifier = (options: { maxAttempts?: number; timeoutMs?: number; maxPending?: number; url?: string } = {}) =>
    new WebhookNotifier({ url: options.url ?? receiver.url, secret, clock, random: systemRandom, logger: createLogger('info', logs), baseDelayMs: 20, ...options });

  before(async () => {
    receiver = await WebhookReceiver.start();
  });
  after(() => receiver.close());

  it('a receiver that fails twice gets the alert on the third try, each try signed, one delivery id', async () => {
    receiver.requests.length = 0;
    receiver.statuses = [500, 503];
    const n = notifier();
    n.send('alert.raised', alert);
    const requests = await receiver.waitFor(3);
    await receiver.settle();
    assert.equal(requests.length, 3);
    for (const r of requests) assert.ok(verify(r.headers, r.body), 'every try verifies');
    assert.equal(new Set(requests.map((r) => r.headers['x-aim-delivery'])).size, 1, 'retries are recognisable as one delivery');
    const payload = JSON.parse(requests[2]!.body) as { event: string; alert: { id: string; type: string } };
    assert.equal(payload.event, 'alert.raised');
    assert.equal(payload.alert.id, alert.id);
    assert.ok(logs.lines.some((l) => l.includes('alert webhook delivered') && l.includes('"attempt":3')));
    await n.close();
  });

  it('gives up after a bounded number of tries, and says so', async () => {
    receiver.requests.length = 0;
    receiver.statuses = Array<number>(10).fill(500);
    const n = notifier({ maxAttempts: 4 });
    n.send('alert.raised', alert);
    await receiver.waitFor(4);
    await receiver.settle(300);
    assert.equal(receiver.requests.length, 4);
    assert.ok(logs.lines.some((l) => l.includes('alert webhook delivery gave up') && l.includes('"attempts":4')));
    receiver.statuses = [];
    await n.close();
  });

  it('never blocks the caller: a stuck receiver times out in the background, then the delivery is retried', async () => {
    receiver.requests.length = 0;
    receiver.hang = true;
    const gaveUp = () => logs.lines.filter((l) => l.includes('alert webhook delivery gave up')).length;
    const failed = () => logs.lines.filter((l) => l.includes('alert webhook delivery failed')).length;
    const before = gaveUp();
    const failedBefore = failed();
    const n = notifier({ timeoutMs: 300, maxAttempts: 2 });
    for (let i = 0; i < 20; i++) n.send('alert.updated', alert);
    // send() only queues: all twenty returned before the event loop let even one request out.
    assert.equal(receiver.requests.length, 0);
    // Counted in the log, not at the receiver: on a loaded machine a try can time out before its request arrives.
    await within(30_000, async () => gaveUp() - before === 20);
    receiver.hang = false;
    await n.close();
    assert.equal(failed() - failedBefore, 20, "each delivery's first try timed out and was retried");
    assert.ok(receiver.requests.length > 0 && receiver.requests.length <= 40, 'the receiver was reached, at most twice per delivery');
    assert.equal(gaveUp() - before, 20, 'each delivery was tried twice, then given up');
  });

  it('drops deliveries beyond its queue instead of piling them up', async () => {
    receiver.requests.length = 0;
    const n = notifier({ maxPending: 2 });
    for (let i = 0; i < 5; i++) n.send('alert.raised', alert);
    await receiver.waitFor(2);
    await receiver.settle();
    assert.equal(receiver.requests.length, 2);
    assert.ok(logs.lines.some((l) => l.includes('alert webhook queue is full')));
    await n.close();
  });

  it('never writes the secret to the logs', () => {
    assert.ok(!logs.text().includes(secret));
  });
});

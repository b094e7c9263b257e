import { createHmac } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import type { Random } from '../core/random.js';
import type { AlertNotifier } from './service.js';
import type { Alert } from './types.js';
import { alertView } from './view.js';

export interface WebhookOptions {
  url: string;
  secret: string;
  clock: Clock;
  random: Random;
  logger: Logger;
  /** Tries per delivery, the first included. */
  maxAttempts?: number;
  /** Wait before the second try; it doubles for each further one (1 s, 2 s, 4 s, 8 s, 16 s by default). */
  baseDelayMs?: number;
  /** Bounds each try. */
  timeoutMs?: number;
  /** Deliveries waiting or under way; beyond it new ones are dropped (and logged) rather than piling up. */
  maxPending?: number;
}

/**
 * The `X-AIM-Signature` value: `t=<unix seconds>,v1=<hex HMAC-SHA256 over "<t>.<body>">`. Receivers recompute the
 * HMAC over the raw body with the shared secret, compare in constant time, and reject stale `t` to stop replays.
 */
export function signWebhook(secret: string, unixSeconds: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/**
 * Delivers alerts to `AIM_ALERT_WEBHOOK_URL` as signed JSON POSTs, in the background: `send()` returns at once and a
 * slow or failing receiver never delays a request. A delivery is retried with exponential backoff until it gets a 2xx
 * or runs out of attempts; every try is signed afresh (a new `t`) and carries the same `X-AIM-Delivery` id, so a
 * receiver can drop duplicates.
 *
 * Body: `{"id": <delivery id>, "event": "alert.raised" | "alert.updated", "created_at": <ms>, "alert": {…}}`.
 */
export class WebhookNotifier implements AlertNotifier {
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly timeoutMs: number;
  private readonly maxPending: number;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<void>>();
  private pending = 0;
  private closed = false;

  constructor(private readonly options: WebhookOptions) {
    this.maxAttempts = options.maxAttempts ?? 6;
    this.baseDelayMs = options.baseDelayMs ?? 1000;
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.maxPending = options.maxPending ?? 1000;
  }

  send(event: 'alert.raised' | 'alert.updated', alert: Alert): void {
    if (this.closed) return;
    const id = this.options.random.uuid();
    if (this.pending >= this.maxPending) {
      this.options.logger.warn({ deliveryId: id, alertId: alert.id }, 'alert webhook queue is full: delivery dropped');
      return;
    }
    this.pending += 1;
    const body = JSON.stringify({ id, event, created_at: this.options.clock.now(), alert: alertView(alert) });
    this.attempt({ id, event, alertId: alert.id, body }, 1);
  }

  /** Stops retrying; tries under way finish (each is bounded by the timeout). */
  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled([...this.inFlight]);
  }

  private attempt(delivery: { id: string; event: string; alertId: string; body: string }, attempt: number): void {
    const run = this.post(delivery).then(
      () => {
        this.pending -= 1;
        this.options.logger.info({ deliveryId: delivery.id, alertId: delivery.alertId, attempt }, 'alert webhook delivered');
      },
      (error: unknown) => {
        const reason = error instanceof Error ? error.message.slice(0, 200) : 'failed';
        if (attempt >= this.maxAttempts || this.closed) {
          this.pending -= 1;
          this.options.logger.error({ deliveryId: delivery.id, alertId: delivery.alertId, attempts: attempt, reason }, 'alert webhook delivery gave up');
          return;
        }
        const delay = this.baseDelayMs * 2 ** (attempt - 1);
        this.options.logger.warn({ deliveryId: delivery.id, alertId: delivery.alertId, attempt, retryInMs: delay, reason }, 'alert webhook delivery failed');
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          this.attempt(delivery, attempt + 1);
        }, delay);
        timer.unref();
        this.timers.add(timer);
      },
    );
    this.inFlight.add(run);
    void run.finally(() => this.inFlight.delete(run));
  }

  private async post(delivery: { id: string; event: string; body: string }): Promise<void> {
    const t = Math.floor(this.options.clock.now() / 1000);
    const response = await fetch(this.options.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'AIM-Webhook/1',
        'x-aim-event': delivery.event,
        'x-aim-delivery': delivery.id,
        'x-aim-signature': signWebhook(this.options.secret, t, delivery.body),
      },
      body: delivery.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    await response.body?.cancel();
    if (response.status < 200 || response.status >= 300) throw new Error(`receiver answered ${response.status}`);
  }
}

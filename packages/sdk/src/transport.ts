import { AimError, InvalidRequestError, InvalidResponseError, NetworkError, RateLimitedError, errorFromResponse } from './errors.js';

/** How hard the SDK tries again when the server says "slow down". */
export interface RetryPolicy {
  /** Retries after a 429 (or before a request the last answer said would be refused). Default 2. */
  maxRetries?: number;
  /** The longest single wait, seconds. A longer `Retry-After` is thrown as `RateLimitedError` at once. Default 30. */
  maxWaitSeconds?: number;
}

/** Options every client shares: where the server is, and the environment's fetch, clock and sleep. */
export interface TransportOptions {
  /** The server's base URL, e.g. `https://aim.example.com`. */
  baseUrl: string;
  /** A fetch implementation; defaults to `globalThis.fetch`. */
  fetch?: typeof fetch;
  retry?: RetryPolicy;
  /** Milliseconds since the epoch; defaults to `Date.now`. Signed timestamps and token expiry use it. */
  now?: () => number;
  /** Waits for rate limits; defaults to a timer. Tests give a fake clock's `advance`. */
  sleep?: (ms: number) => Promise<void>;
  /**
   * How long one request may take, answer body included, in milliseconds; then it fails with a `NetworkError`
   * (`timeout`). Default 30000. Requests that time out are not retried: the server may have acted on them.
   */
  timeoutMs?: number;
  /**
   * Sent as `User-Agent` (Node; browsers send their own). The server shows it in the session list, so people can
   * tell this client's sessions apart, e.g. `billing-sync/2.1`.
   */
  userAgent?: string;
}

/** What the last answer's rate-limit headers said (draft-ietf-httpapi-ratelimit-headers). */
export interface RateLimitState {
  policy: string | undefined;
  limit: number;
  remaining: number;
  /** Seconds from `observedAt` until quota starts coming back. */
  reset: number;
  observedAt: number;
}

export interface RequestSpec {
  method: string;
  path: string;
  json?: unknown;
  form?: Record<string, string>;
  headers?: Record<string, string>;
}

export interface Answer<T> {
  status: number;
  headers: Headers;
  body: T;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** fetch plus AIM's conventions: JSON in and out, typed errors, and rate-limit awareness with bounded retries. */
export class Transport {
  readonly baseUrl: string;
  readonly now: () => number;
  private readonly fetchImpl: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly userAgent: string | undefined;
  private readonly maxRetries: number;
  private readonly maxWaitSeconds: number;
  private readonly timeoutMs: number;
  /** The rate-limit state from the most recent answer, if the route was limited. */
  rateLimit: RateLimitState | undefined;
  /**
   * The last state per bucket: requests with a credential count against its principal, those without against the
   * client address (public routes such as the token endpoint), so one bucket running dry does not hold up the other.
   */
  private readonly buckets = new Map<string, RateLimitState>();

  constructor(options: TransportOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.now = options.now ?? (() => Date.now());
    this.sleep = options.sleep ?? defaultSleep;
    this.userAgent = options.userAgent;
    this.maxRetries = options.retry?.maxRetries ?? 2;
    this.maxWaitSeconds = options.retry?.maxWaitSeconds ?? 30;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  async send<T>(spec: RequestSpec): Promise<Answer<T>> {
    // The path is appended to the base URL as text: one not starting with "/" could name another host or port
    // ("http://127.0.0.1" + ":8081/…"), and the credential would go there.
    if (!spec.path.startsWith('/')) throw new InvalidRequestError('invalid_request', 'a request path must start with "/" (it is relative to the base URL)', 0);
    const bucket = spec.headers && ('authorization' in spec.headers || 'x-api-key' in spec.headers) ? 'principal' : 'public';
    for (let attempt = 0; ; attempt += 1) {
      await this.waitForQuota(bucket, attempt);
      const signal = AbortSignal.timeout(this.timeoutMs);
      const response = await this.network(() => this.fetchOnce(spec, signal));
      this.observe(bucket, response.headers);
      const body = await this.network(() => readBody(response));
      if (response.ok) return { status: response.status, headers: response.headers, body: body as T };
      const retryAfter = response.status === 429 ? retryAfterSeconds(response.headers, this.now()) : undefined;
      const error = errorFromResponse(response.status, body, retryAfter);
      // RFC 6585 §4 / RFC 9110 §10.2.3: wait what the server asks, within our bounds, then try again.
      if (error instanceof RateLimitedError && attempt < this.maxRetries && error.retryAfter <= this.maxWaitSeconds) {
        await this.sleep(error.retryAfter * 1000);
        continue;
      }
      throw error;
    }
  }

  /**
   * When the last answer left no quota, the next request would be refused: wait for the reset instead of
   * spending a request on a 429 (bounded like a retry), or say so at once.
   */
  private async waitForQuota(bucket: string, attempt: number): Promise<void> {
    const state = this.buckets.get(bucket);
    if (!state || state.remaining > 0) return;
    const waitMs = state.observedAt + state.reset * 1000 - this.now();
    if (waitMs <= 0) return;
    if (attempt >= this.maxRetries || waitMs > this.maxWaitSeconds * 1000) {
      // Said once, then forgotten: the next request asks the server, so one answer with an absurd reset (a proxy's,
      // a broken one) cannot keep this client from its server.
      this.buckets.delete(bucket);
      throw new RateLimitedError('rate_limited', 'no quota left until the rate-limit window resets (from RateLimit headers)', 429, {
        retryAfter: Math.ceil(waitMs / 1000),
      });
    }
    await this.sleep(waitMs);
    this.buckets.delete(bucket);
  }

  private async fetchOnce(spec: RequestSpec, signal: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json', ...(this.userAgent && { 'user-agent': this.userAgent }), ...spec.headers };
    let body: string | undefined;
    if (spec.form) {
      body = new URLSearchParams(spec.form).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else if (spec.json !== undefined) {
      body = JSON.stringify(spec.json);
      headers['content-type'] = 'application/json';
    }
    // Redirects are errors: a 307 to another origin would carry X-API-Key and form bodies (refresh tokens) there.
    return this.fetchImpl(this.baseUrl + spec.path, { method: spec.method, headers, redirect: 'error', signal, ...(body !== undefined && { body }) });
  }

  /** Runs a fetch step; a failure that is not an answer from the server becomes a `NetworkError`. */
  private async network<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (cause) {
      if (cause instanceof AimError) throw cause;
      if (cause instanceof Error && cause.name === 'TimeoutError') {
        throw new NetworkError('timeout', `no answer from ${this.baseUrl} within ${this.timeoutMs} ms`, 0, { cause });
      }
      throw new NetworkError('network_error', `cannot reach ${this.baseUrl}: ${cause instanceof Error ? cause.message : String(cause)}`, 0, { cause });
    }
  }

  private observe(bucket: string, headers: Headers): void {
    const limit = intHeader(headers, 'ratelimit-limit');
    const remaining = intHeader(headers, 'ratelimit-remaining');
    const reset = intHeader(headers, 'ratelimit-reset');
    if (limit === undefined || remaining === undefined || reset === undefined) return;
    const policy = /^"([^"]+)"/.exec(headers.get('ratelimit-policy') ?? '')?.[1];
    this.rateLimit = { policy, limit, remaining, reset, observedAt: this.now() };
    this.buckets.set(bucket, this.rateLimit);
  }
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    if (!response.ok) return undefined;
    throw new InvalidResponseError('invalid_response', `expected JSON from the server, got ${response.headers.get('content-type') ?? 'nothing'}`, response.status, { cause });
  }
}

function intHeader(headers: Headers, name: string): number | undefined {
  const value = headers.get(name);
  if (value === null || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value);
}

/** `Retry-After` in seconds (delta-seconds or an HTTP date, read against `now`), falling back to `RateLimit-Reset`. */
function retryAfterSeconds(headers: Headers, now: number): number {
  const value = headers.get('retry-after');
  if (value !== null) {
    if (/^\d+$/.test(value.trim())) return Number(value);
    const date = Date.parse(value);
    if (!Number.isNaN(date)) return Math.max(0, Math.ceil((date - now) / 1000));
  }
  return intHeader(headers, 'ratelimit-reset') ?? 1;
}

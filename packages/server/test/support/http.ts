/** A tiny JSON client over a real socket: what tests use to talk to a running server. */
export interface HttpResult<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  /** The parsed JSON; error fields are always readable, whatever shape a success would have. */
  body: T & { error?: unknown; error_description?: unknown };
  text: string;
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  /** Sent as-is instead of JSON. */
  raw?: string | Buffer;
  headers?: Record<string, string>;
  token?: string;
  apiKey?: string;
  /** Gives up after this many milliseconds (a hung request fails the test instead of stalling it). */
  timeoutMs?: number;
}

export class HttpClient {
  constructor(readonly baseUrl: string) {}

  async request<T = Record<string, unknown>>(path: string, options: RequestOptions = {}): Promise<HttpResult<T>> {
    const headers: Record<string, string> = { ...options.headers };
    let body: string | Buffer | undefined;
    if (options.raw !== undefined) body = options.raw;
    else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.apiKey) headers['x-api-key'] = options.apiKey;
    const response = await fetch(this.baseUrl + path, {
      method: options.method ?? (body === undefined ? 'GET' : 'POST'),
      headers,
      body,
      ...(options.timeoutMs !== undefined && { signal: AbortSignal.timeout(options.timeoutMs) }),
    });
    const text = await response.text();
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: response.status, headers: response.headers, body: parsed as HttpResult<T>["body"], text };
  }

  get<T = Record<string, unknown>>(path: string, options: Omit<RequestOptions, 'method' | 'body'> = {}) {
    return this.request<T>(path, { ...options, method: 'GET' });
  }

  post<T = Record<string, unknown>>(path: string, body?: unknown, options: Omit<RequestOptions, 'body'> = {}) {
    return this.request<T>(path, { ...options, method: 'POST', body });
  }

  /** A form-encoded POST, as OAuth's endpoints take (`/oauth/token`, `/oauth/revoke`, `/oauth/introspect`). */
  postForm<T = Record<string, unknown>>(path: string, fields: Record<string, string>, options: Omit<RequestOptions, 'body' | 'raw'> = {}) {
    const headers = { 'content-type': 'application/x-www-form-urlencoded', ...options.headers };
    return this.request<T>(path, { ...options, method: 'POST', raw: new URLSearchParams(fields).toString(), headers });
  }
}

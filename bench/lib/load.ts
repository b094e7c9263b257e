import autocannon from 'autocannon';

/** One request shape; `next` builds a fresh body per request (signed actions, one-time tokens). */
export interface LoadRequest {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
  next?: () => { body?: string; headers?: Record<string, string> };
  onResponse?: (status: number, body: string) => void;
}

export interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  /** Non-2xx answers and socket errors. */
  errors: number;
  statuses: Record<string, number>;
}

/** A bounded autocannon run against one server on loopback. */
export async function runLoad(
  url: string,
  options: { connections: number; duration: number; requests: LoadRequest[]; overallRate?: number },
): Promise<LoadResult> {
  const statuses: Record<string, number> = {};
  const requests = options.requests.map((r) => ({
    method: r.method,
    path: r.path,
    headers: r.headers ?? {},
    ...(r.body !== undefined && { body: r.body }),
    ...(r.next && {
      setupRequest: (request: Record<string, unknown>) => {
        const fresh = r.next!();
        return {
          ...request,
          ...(fresh.body !== undefined && { body: fresh.body }),
          headers: { ...(request.headers as Record<string, string>), ...fresh.headers },
        };
      },
    }),
    onResponse: (status: number, body: string) => {
      statuses[status] = (statuses[status] ?? 0) + 1;
      r.onResponse?.(status, body);
    },
  }));
  const result = await autocannon({
    url,
    connections: options.connections,
    duration: options.duration,
    ...(options.overallRate !== undefined && { overallRate: options.overallRate }),
    requests: requests as unknown as autocannon.Request[],
  });
  const ok = result['2xx'];
  return {
    requests: ok,
    rps: ok / options.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.non2xx + result.errors + result.timeouts,
    statuses,
  };
}

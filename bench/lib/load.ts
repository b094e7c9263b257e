import autocannon from 'autocannon';
import { cpuSeconds } from './rss.js';

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
  /** With the server's pid: the share of one core it used, and its CPU milliseconds per answered request. */
  serverCores?: number;
  cpuMsPerRequest?: number;
  statuses: Record<string, number>;
}

/** A bounded autocannon run against one server on loopback. */
export async function runLoad(
  url: string,
  options: { connections: number; duration: number; requests: LoadRequest[]; overallRate?: number; pid?: number },
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
  const cpuBefore = options.pid === undefined ? 0 : cpuSeconds(options.pid);
  const result = await autocannon({
    url,
    connections: options.connections,
    duration: options.duration,
    ...(options.overallRate !== undefined && { overallRate: options.overallRate }),
    requests: requests as unknown as autocannon.Request[],
  });
  const ok = result['2xx'];
  const cpu = options.pid === undefined ? undefined : cpuSeconds(options.pid) - cpuBefore;
  return {
    ...(cpu !== undefined && { serverCores: cpu / options.duration, cpuMsPerRequest: ok > 0 ? (cpu * 1000) / ok : 0 }),
    requests: ok,
    rps: ok / options.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.non2xx + result.errors + result.timeouts,
    statuses,
  };
}

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
  /** Seconds measured. */
  seconds: number;
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  /** Non-2xx answers and socket errors. */
  errors: number;
  /** With the server's pid: the share of one core it used, and its CPU milliseconds per answered request. */
  serverCores?: number;
  cpuMsPerRequest?: number;
  serverCpuSeconds?: number;
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
    seconds: options.duration,
    ...(cpu !== undefined && { serverCpuSeconds: cpu, serverCores: cpu / options.duration, cpuMsPerRequest: ok > 0 ? (cpu * 1000) / ok : 0 }),
    requests: ok,
    rps: ok / options.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.non2xx + result.errors + result.timeouts,
    statuses,
  };
}

/** Several slices of one measurement as one: totals over the total time, the worst p99, the mean p50. */
export function combine(slices: LoadResult[]): LoadResult {
  const seconds = slices.reduce((n, s) => n + s.seconds, 0);
  const requests = slices.reduce((n, s) => n + s.requests, 0);
  const statuses: Record<string, number> = {};
  for (const s of slices) for (const [code, n] of Object.entries(s.statuses)) statuses[code] = (statuses[code] ?? 0) + n;
  const withCpu = slices.every((s) => s.serverCpuSeconds !== undefined);
  const cpu = slices.reduce((n, s) => n + (s.serverCpuSeconds ?? 0), 0);
  return {
    seconds,
    requests,
    rps: seconds > 0 ? requests / seconds : 0,
    p50: slices.reduce((n, s) => n + s.p50, 0) / Math.max(1, slices.length),
    p99: Math.max(...slices.map((s) => s.p99)),
    errors: slices.reduce((n, s) => n + s.errors, 0),
    statuses,
    ...(withCpu && { serverCpuSeconds: cpu, serverCores: cpu / seconds, cpuMsPerRequest: requests > 0 ? (cpu * 1000) / requests : 0 }),
  };
}

/**
 * Measures a figure and its baseline in alternating slices (A B A B …) rather than one after the other: on a
 * machine shared with other work, load that comes and goes then weighs on both sides alike.
 */
export async function alternate(rounds: number, sides: Array<() => Promise<LoadResult>>): Promise<LoadResult[]> {
  const slices: LoadResult[][] = sides.map(() => []);
  for (let round = 0; round < rounds; round += 1) {
    for (const [i, side] of sides.entries()) {
      slices[i]!.push(await side());
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  }
  return slices.map(combine);
}

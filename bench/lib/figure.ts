import type { LoadResult } from './load.js';

/** One row of the table: a measured value, the baseline measured in the same run, and the goal on their ratio. */
export interface Figure {
  id: string;
  name: string;
  value: number;
  unit: string;
  baseline?: { name: string; value: number; unit: string };
  ratio?: number;
  /** The ratio must be at least this (or, with `goalMax`, at most). */
  goal?: number;
  goalMax?: boolean;
  /** A goal on the value itself: it must be at most this (latencies). */
  limit?: number;
  met?: boolean;
  /** Latencies and other numbers worth keeping next to the figure. */
  details: Record<string, number | string>;
}

export function figure(f: Omit<Figure, 'ratio' | 'met'>): Figure {
  const ratio = f.baseline && f.baseline.value > 0 ? f.value / f.baseline.value : undefined;
  const met =
    f.limit !== undefined ? f.value <= f.limit : ratio === undefined || f.goal === undefined ? undefined : f.goalMax ? ratio <= f.goal : ratio >= f.goal;
  return { ...f, ...(ratio !== undefined && { ratio }), ...(met !== undefined && { met }) };
}

/** Pauses between loads so one run's stragglers do not land in the next. */
export const settle = (ms = 500) => new Promise((resolve) => setTimeout(resolve, ms));

/** How much CPU the server under test got and spent: on a shared machine this tells contention from cost. */
export function cpuDetails(load: { serverCores?: number; cpuMsPerRequest?: number }): Record<string, number> {
  return {
    ...(load.serverCores !== undefined && { server_cores_used: Math.round(load.serverCores * 100) / 100 }),
    ...(load.cpuMsPerRequest !== undefined && { cpu_ms_per_request: Math.round(load.cpuMsPerRequest * 1000) / 1000 }),
  };
}

/** The details of a load measured against a baseline load of another server: both sides' latency, errors and CPU. */
export function againstBaseline(load: LoadResult, baseline: LoadResult): Record<string, number | string> {
  return {
    p99_ms: load.p99,
    errors: load.errors,
    ...cpuDetails(load),
    baseline_p99_ms: baseline.p99,
    baseline_errors: baseline.errors,
    baseline_cpu_ms_per_request: Math.round((baseline.cpuMsPerRequest ?? 0) * 1000) / 1000,
    statuses: JSON.stringify(load.statuses),
  };
}

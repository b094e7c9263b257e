import type { Figure } from './figure.js';

const round = (n: number) => (Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2));

function goalText(f: Figure): string {
  if (f.limit !== undefined) return `≤ ${f.limit} ${f.unit}`;
  if (f.goal === undefined) return '—';
  return `${f.goalMax ? '≤' : '≥'} ${f.goal}`;
}

function metText(f: Figure): string {
  return f.met === undefined ? '—' : f.met ? 'yes' : '**no**';
}

/** Server CPU milliseconds per request, figure / baseline, where both were measured. */
function cpuText(f: Figure): string {
  const own = f.details.cpu_ms_per_request;
  if (own === undefined) return '—';
  // A one-core baseline in calls/s costs 1000 / rate milliseconds of CPU per call.
  const base =
    f.details.baseline_cpu_ms_per_request ?? f.details.health_cpu_ms_per_request ?? (f.baseline?.unit === 'calls/s' ? 1000 / f.baseline.value : undefined);
  return base === undefined ? `${round(Number(own))}` : `${round(Number(own))} / ${round(Number(base))}`;
}

/** The results as a Markdown table: what the README shows and what `npm run bench` prints. */
export function markdownTable(figures: Figure[]): string {
  const rows = figures.map((f) => {
    const extra = f.details.p99_ms !== undefined ? ` (p99 ${round(Number(f.details.p99_ms))} ms)` : '';
    const baseline = f.baseline ? `${round(f.baseline.value)} ${f.baseline.unit}: ${f.baseline.name}` : '—';
    return `| ${f.name} | ${round(f.value)} ${f.unit}${extra} | ${baseline} | ${f.ratio === undefined ? '—' : round(f.ratio)} | ${goalText(f)} | ${metText(f)} | ${cpuText(f)} |`;
  });
  return [
    '| figure | value | baseline (same run) | ratio | goal | met? | server CPU ms/request (figure / baseline) |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

import { Group, Text } from '@mantine/core';
import { useElementSize } from '@mantine/hooks';

export interface BarSeries {
  name: string;
  color: string;
}

export interface BarPoint {
  label: string;
  /** One value per series, stacked bottom to top in series order. */
  values: number[];
}

/** Axis labels in the theme's readable grey: axe skips text inside role="img", but people still read it. */
const AXIS = { fill: 'var(--mantine-color-dimmed)' };

/**
 * A stacked bar chart in plain SVG: no chart library, nothing inline-scripted, fits the CSP. The numbers are also
 * in the accessible label, so screen readers get the data, not a picture.
 */
export function BarChart({ series, points, height = 180, title }: { series: BarSeries[]; points: BarPoint[]; height?: number; title: string }) {
  // Drawn at the container's real width, so labels keep their size on a phone instead of shrinking with the SVG.
  const { ref, width: measured } = useElementSize();
  const width = Math.max(280, Math.round(measured) || 600);
  const max = Math.max(1, ...points.map((p) => p.values.reduce((a, b) => a + b, 0)));
  const top = 10;
  const bottom = 22;
  const left = 30;
  const plot = height - top - bottom;
  const slot = (width - left) / Math.max(1, points.length);
  const bar = Math.max(2, Math.min(28, slot * 0.6));
  const summary = points.map((p) => `${p.label}: ${series.map((s, i) => `${p.values[i] ?? 0} ${s.name}`).join(', ')}`).join('; ');
  const labelEvery = Math.ceil(points.length / Math.max(2, Math.floor(width / 70)));
  return (
    <div ref={ref}>
      <svg viewBox={`0 0 ${width} ${height}`} width="100%" role="img" aria-label={`${title}. ${summary}`} style={{ display: 'block' }}>
        <title>{title}</title>
        {[0, 0.5, 1].map((f) => (
          <g key={f}>
            <line x1={left} x2={width} y1={top + plot * (1 - f)} y2={top + plot * (1 - f)} stroke="#e9ecef" />
            <text x={left - 6} y={top + plot * (1 - f) + 4} fontSize="10" textAnchor="end" style={AXIS}>
              {Math.round(max * f)}
            </text>
          </g>
        ))}
        {points.map((p, i) => {
          const x = left + i * slot + (slot - bar) / 2;
          let y = top + plot;
          return (
            <g key={p.label}>
              {p.values.map((v, s) => {
                const h = (v / max) * plot;
                y -= h;
                return v > 0 ? <rect key={s} x={x} y={y} width={bar} height={h} rx={2} fill={series[s]?.color ?? '#4c6ef5'} /> : null;
              })}
              {i % labelEvery === 0 && (
                <text x={x + bar / 2} y={height - 6} fontSize="10" textAnchor="middle" style={AXIS}>
                  {p.label}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      {series.length > 1 && (
        <Group gap="md" mt={4}>
          {series.map((s) => (
            <Group key={s.name} gap={6}>
              <svg width="10" height="10" aria-hidden="true">
                <rect width="10" height="10" rx="2" fill={s.color} />
              </svg>
              <Text size="xs" c="dimmed">
                {s.name}
              </Text>
            </Group>
          ))}
        </Group>
      )}
    </div>
  );
}

/** The last `days` UTC days as YYYY-MM-DD, oldest first. */
export function lastDays(days: number, now = Date.now()): string[] {
  const out: string[] = [];
  for (let i = days - 1; i >= 0; i -= 1) out.push(new Date(now - i * 86_400_000).toISOString().slice(0, 10));
  return out;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

export function formatDateTime(ms: number | null | undefined): string {
  return ms ? dateTime.format(ms) : '—';
}

export function formatDate(ms: number | null | undefined): string {
  return ms ? dateOnly.format(ms) : '—';
}

/** "in 3 days", "2 hours ago". */
export function fromNow(ms: number | null | undefined, now = Date.now()): string {
  if (!ms) return 'never';
  const seconds = Math.round((ms - now) / 1000);
  const units: Array<[Intl.RelativeTimeFormatUnit, number]> = [
    ['day', 86_400],
    ['hour', 3_600],
    ['minute', 60],
  ];
  for (const [unit, size] of units) if (Math.abs(seconds) >= size) return relative.format(Math.round(seconds / size), unit);
  return relative.format(seconds, 'second');
}

export function shortId(id: string): string {
  return id.length > 12 ? `${id.slice(0, 8)}…` : id;
}

/** Days from now until `ms` (negative once past). */
export function daysUntil(ms: number, now = Date.now()): number {
  return Math.floor((ms - now) / 86_400_000);
}

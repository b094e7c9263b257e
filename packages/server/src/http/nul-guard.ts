import { AimError } from '../core/errors.js';

/**
 * NUL characters are refused in every request string (body, query, path), whatever the route: PostgreSQL cannot
 * store U+0000 in text and would fail the query, C-string consumers truncate at it, and no legitimate AIM value
 * contains it. One check at the edge instead of a pattern on every field.
 */
export function rejectNul(parts: Record<string, unknown>): void {
  for (const [part, value] of Object.entries(parts)) {
    if (containsNul(value, 0)) throw new AimError('invalid_request', `the ${part} contains a NUL character (U+0000)`);
  }
}

function containsNul(value: unknown, depth: number): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  // Bodies are at most AIM_BODY_LIMIT bytes, so the walk is bounded; the depth cap guards the stack all the same.
  if (typeof value !== 'object' || value === null || depth > 256) return false;
  if (Array.isArray(value)) return value.some((v) => containsNul(v, depth + 1));
  return Object.entries(value).some(([k, v]) => k.includes('\u0000') || containsNul(v, depth + 1));
}

import { AimError } from '../core/errors.js';

/**
 * NUL characters and unpaired UTF-16 surrogates are refused in every request string (body, query, path), whatever
 * the route. NUL: PostgreSQL cannot store U+0000 in text and would fail the query, C-string consumers truncate at
 * it. Unpaired surrogates (`"\ud800"` is valid JSON) are not text: UTF-8 encoding turns each into U+FFFD, so the
 * stores keep something else than was sent, and distinct resources would share one signed message (verify-action
 * signs UTF-8 bytes). No legitimate AIM value contains either. One check at the edge instead of a pattern per field.
 */
export function rejectNul(parts: Record<string, unknown>): void {
  for (const [part, value] of Object.entries(parts)) {
    if (containsBad(value, 0)) {
      throw new AimError('invalid_request', `the ${part} contains a NUL character (U+0000) or an unpaired UTF-16 surrogate`);
    }
  }
}

// With the `u` flag, a surrogate range matches only a surrogate that is not half of a pair.
const BAD = /[\u0000\ud800-\udfff]/u;

function containsBad(value: unknown, depth: number): boolean {
  if (typeof value === 'string') return BAD.test(value);
  // Bodies are at most AIM_BODY_LIMIT bytes, so the walk is bounded; the depth cap guards the stack all the same.
  if (typeof value !== 'object' || value === null || depth > 256) return false;
  if (Array.isArray(value)) return value.some((v) => containsBad(v, depth + 1));
  return Object.entries(value).some(([k, v]) => BAD.test(k) || containsBad(v, depth + 1));
}

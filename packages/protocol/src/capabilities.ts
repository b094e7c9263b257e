/**
 * The capability grammar, shared by the server (which validates and decides), the web UI and the CLI.
 *
 *   capability  = action-part [ "@" constraint ]
 *   action-part = "*" | name *( ":" name ) [ ":*" ]        name = 1*( ALPHA / DIGIT / "_" / "." / "-" )
 *   constraint  = "*" | 1*rchar [ "*" ]                     rchar = any character but ":" "*" and controls
 *
 * `@` separates because it can never appear in an action name, while a resource may hold it (`user@example.com`):
 * the first `@` always ends the action. A constraint without `*` is one exact resource; a trailing `*` makes it a
 * prefix (`/reports/*` covers `/reports/q3.pdf`, not `/reports`); `@*` alone is the same as no constraint (any
 * resource). Resources can never contain `:` (see RESOURCE_PATTERN), so neither can a constraint. Matching is exact
 * and case-sensitive, on the resource as signed.
 */
const NAME = '[A-Za-z0-9_.\\-]+';
const ACTION_PART = `(\\*|${NAME}(:${NAME})*(:\\*)?)`;
// Controls (C0, DEL, C1) and the bidirectional/line-separator marks that would let a constraint read differently
// in the UI than it matches.
const RCHAR = '[^:*\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069]';
export const CAPABILITY_PATTERN = `^${ACTION_PART}(@(\\*|${RCHAR}+\\*?))?$`;
/** Room for a path-like constraint; an action alone stays far shorter. */
export const CAPABILITY_MAX_LENGTH = 512;

const CAPABILITY_REGEXP = new RegExp(CAPABILITY_PATTERN, 'u');

/** In characters (code points), as JSON Schema's maxLength counts them. */
export function isCapability(value: string): boolean {
  return value.length > 0 && [...value].length <= CAPABILITY_MAX_LENGTH && CAPABILITY_REGEXP.test(value);
}

/** A capability split at its first `@`; `resource` is `null` when it covers any resource (no constraint, or `@*`). */
export interface CapabilityParts {
  action: string;
  resource: { value: string; prefix: boolean } | null;
}

export function splitCapability(capability: string): CapabilityParts {
  const at = capability.indexOf('@');
  if (at < 0) return { action: capability, resource: null };
  const action = capability.slice(0, at);
  const constraint = capability.slice(at + 1);
  if (constraint === '*') return { action, resource: null };
  return constraint.endsWith('*')
    ? { action, resource: { value: constraint.slice(0, -1), prefix: true } }
    : { action, resource: { value: constraint, prefix: false } };
}

/**
 * Why verify-action allowed or denied a validly signed request (rejections carry their error code instead).
 */
export const DECISION_REASONS = [
  /** A capability covers both the action and the resource. */
  'capability_granted',
  /** No capability covers the action. */
  'capability_missing',
  /** Some capability covers the action, but none of those allows this resource. */
  'resource_not_allowed',
] as const;
export type DecisionReason = (typeof DECISION_REASONS)[number];

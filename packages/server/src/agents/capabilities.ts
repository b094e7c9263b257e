/**
 * Capability matching: an agent may perform `action` when one of its capabilities names it exactly, or is a
 * `prefix:*` wildcard covering it (`files:*` covers `files:read` and `files:read:meta`), or is `*`.
 */
export function capabilityAllows(capabilities: readonly string[], action: string): boolean {
  for (const capability of capabilities) {
    if (capability === action || capability === '*') return true;
    if (capability.endsWith(':*') && action.startsWith(capability.slice(0, -1))) return true;
  }
  return false;
}

/** Names: letters, digits, `_ . -`, namespaced with `:`; a capability may end in `:*`. */
export const ACTION_PATTERN = '^[A-Za-z0-9_.\\-]+(:[A-Za-z0-9_.\\-]+)*$';
export const CAPABILITY_PATTERN = '^(\\*|[A-Za-z0-9_.\\-]+(:[A-Za-z0-9_.\\-]+)*(:\\*)?)$';
/**
 * Resources are free text but for `:`. The signed message joins fields with `:`, and actions already use it for
 * namespaces; if resources could too, `files:read` + `x` and `files` + `read:x` would sign the same bytes.
 */
export const RESOURCE_PATTERN = '^[^:\\u0000-\\u001f]+$';

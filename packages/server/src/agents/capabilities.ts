import { splitCapability, type CapabilityParts, type DecisionReason } from '@aim/protocol';

export { CAPABILITY_MAX_LENGTH, CAPABILITY_PATTERN } from '@aim/protocol';

/**
 * The verify-action decision from an agent's capabilities (grammar in `@aim/protocol`'s capabilities.ts).
 * Allowed when one capability covers both the action and the resource; `resource_not_allowed` when some cover the
 * action but none allows this resource; `capability_missing` when none covers the action at all.
 */
export function capabilityDecision(capabilities: readonly string[], action: string, resource: string): DecisionReason {
  let actionGranted = false;
  for (const capability of capabilities) {
    const parts = splitCapability(capability);
    if (!actionCovered(parts.action, action)) continue;
    if (resourceCovered(parts.resource, resource)) return 'capability_granted';
    actionGranted = true;
  }
  return actionGranted ? 'resource_not_allowed' : 'capability_missing';
}

/** Exact name, a `prefix:*` wildcard covering it (`files:*` covers `files:read` and `files:read:meta`), or `*`. */
function actionCovered(granted: string, action: string): boolean {
  if (granted === action || granted === '*') return true;
  return granted.endsWith(':*') && action.startsWith(granted.slice(0, -1));
}

/**
 * Resources are opaque to AIM, but most are paths: a prefix grant must not be escaped with `..`
 * (`/reports/../secrets` starts with `/reports/`), whichever slash the relying service uses and however it decodes
 * the resource: percent-encoding (dots or slashes, once or twice) and compatibility forms (fullwidth `．`, `／`)
 * are undone before looking. The whole resource is checked, so a segment straddling the prefix's end
 * (`/reports/.*` + `/reports/../x`) counts too.
 */
const DOT_DOT_SEGMENT = /(^|[/\\])\.\.([/\\]|$)/;
const PERCENT_BYTE = /%([0-9a-f]{2})/gi;

/** The resource as a service decoding it up to three times, then NFKC-normalising it, could read it. */
function decodedForms(resource: string): string[] {
  const forms = [resource];
  for (let i = 0; i < 3; i++) {
    const next = forms[forms.length - 1]!.replace(PERCENT_BYTE, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    if (next === forms[forms.length - 1]) break;
    forms.push(next);
  }
  return [...forms, ...forms.map((form) => form.normalize('NFKC'))];
}

function resourceCovered(constraint: CapabilityParts['resource'], resource: string): boolean {
  if (constraint === null) return true;
  if (!constraint.prefix) return resource === constraint.value;
  return resource.startsWith(constraint.value) && !decodedForms(resource).some((form) => DOT_DOT_SEGMENT.test(form));
}

/** Names: letters, digits, `_ . -`, namespaced with `:`. */
export const ACTION_PATTERN = '^[A-Za-z0-9_.\\-]+(:[A-Za-z0-9_.\\-]+)*$';
/**
 * Resources are free text but for `:`. The signed message joins fields with `:`, and actions already use it for
 * namespaces; if resources could too, `files:read` + `x` and `files` + `read:x` would sign the same bytes.
 */
export const RESOURCE_PATTERN = '^[^:\\u0000-\\u001f]+$';

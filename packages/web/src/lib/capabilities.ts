import { isCapability, splitCapability } from '@aim/protocol';

/** The same grammar the server checks (from `@aim/protocol`), so a bad capability is flagged before saving. */
export const invalidCapabilities = (capabilities: string[]) => capabilities.filter((c) => !isCapability(c));

/** `files:read@/reports/*` → "files:read on resources starting with “/reports/”". */
export function describeCapability(capability: string): string {
  const { action, resource } = splitCapability(capability);
  const what = action === '*' ? 'any action' : action.endsWith(':*') ? `any ${action.slice(0, -1)} action` : action;
  if (resource === null) return `${what} on any resource`;
  return resource.prefix ? `${what} on resources starting with “${resource.value}”` : `${what} on “${resource.value}” only`;
}

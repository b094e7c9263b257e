/**
 * Keeping secrets out of logs. SDK objects that hold one keep it in a `#private` field and answer `toJSON()` and
 * Node's `util.inspect` with a view that names what they hold and shows no secret, so `console.log(client)` is safe.
 */

/** Node's `util.inspect.custom`, by its registered name: no node:util import, and browsers never look it up. */
export const INSPECT: unique symbol = Symbol.for('nodejs.util.inspect.custom');

export const REDACTED = '[redacted]';

/** The `inspect` Node passes to a custom inspect method (its third argument). */
export type Inspect = (value: unknown, options?: unknown) => string;

/** `Name { …view }`, as util.inspect prints a class instance. */
export function inspectAs(name: string, view: object, options: unknown, inspect: Inspect | undefined): string | object {
  return inspect ? `${name} ${inspect(view, options)}` : view;
}

/** Credential fields that identify rather than authenticate; every other field is shown as `[redacted]`. */
const SHOWN = new Set(['email', 'agentId']);

/** A credential with only its identifying fields shown: `{ email: 'a@b', password: '[redacted]' }`. */
export function redactCredentials(credentials: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(credentials).map(([field, value]) => [field, SHOWN.has(field) ? value : REDACTED]));
}

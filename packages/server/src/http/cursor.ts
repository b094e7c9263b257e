import { AimError } from '../core/errors.js';

/** Keyset pagination: the cursor is the (time, id) of the last item, opaque to clients. */
export interface Position {
  createdAt: number;
  id: string;
}

export function encodeCursor(position: Position): string {
  return Buffer.from(JSON.stringify([position.createdAt, position.id])).toString('base64url');
}

export function decodeCursor(cursor: string | undefined): Position | undefined {
  if (cursor === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && Number.isSafeInteger(value[0]) && typeof value[1] === 'string' && value[1].length <= 64) {
      return { createdAt: value[0] as number, id: value[1] };
    }
  } catch {
    // fall through
  }
  throw new AimError('invalid_request', 'cursor is not valid');
}

/** The next cursor when the page is full, else null. */
export function nextCursor<T extends { createdAt: number; id: string }>(items: T[], limit: number): string | null {
  const last = items[items.length - 1];
  return items.length === limit && last ? encodeCursor(last) : null;
}

import { Type } from 'typebox';

/** Schemas shared by many routes. */
export const Uuid = Type.String({ format: 'uuid', maxLength: 36 });
export const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
export const Timestamp = Type.Integer({ description: 'milliseconds since the Unix epoch' });
export const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);
export const Cursor = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
});
export const Ok = Type.Object({ ok: Type.Boolean() });

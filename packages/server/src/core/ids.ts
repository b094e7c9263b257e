/** Branded ids: a UserId cannot be passed where an AgentId is expected. */
declare const brand: unique symbol;
export type Brand<T, B extends string> = T & { readonly [brand]: B };

export type OrgId = Brand<string, 'OrgId'>;
export type UserId = Brand<string, 'UserId'>;
export type AgentId = Brand<string, 'AgentId'>;
export type KeyId = Brand<string, 'KeyId'>;
export type ApiKeyId = Brand<string, 'ApiKeyId'>;
export type FamilyId = Brand<string, 'FamilyId'>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Ids in AIM are lowercase UUIDs; anything else cannot name a row and is answered 404 without a query. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

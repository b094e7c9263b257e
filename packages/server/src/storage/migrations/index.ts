import type { Migration } from 'kysely';
import * as foundation from './0001_foundation.js';
import * as mfa from './0004_mfa.js';

/** Every migration, in order. Names are permanent once released. */
export const MIGRATIONS: Record<string, Migration> = {
  '0001_foundation': foundation,
  '0004_mfa': mfa,
};

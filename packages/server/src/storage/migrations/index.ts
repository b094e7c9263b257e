import type { Migration } from 'kysely';
import * as foundation from './0001_foundation.js';
import * as alerts from './0005_alerts.js';

/** Every migration, in order. Names are permanent once released. */
export const MIGRATIONS: Record<string, Migration> = {
  '0001_foundation': foundation,
  '0005_alerts': alerts,
};

import { randomBytes } from 'node:crypto';
import { REDIS_TEST_URL, type TestDatabase } from './databases.js';

/**
 * What every node of one test cluster is started with: the one PostgreSQL database and Redis prefix they share,
 * one master key (each node must unseal the signing keys another created) and the first admin. A test adds its
 * own limits and gives each node an AIM_DATA_DIR of its own.
 */
export function clusterEnv(database: TestDatabase, redisPrefix: string, admin: { email: string; password: string }): Record<string, string> {
  return {
    AIM_DATABASE_URL: database.databaseUrl!,
    AIM_REDIS_URL: REDIS_TEST_URL,
    AIM_REDIS_PREFIX: redisPrefix,
    AIM_MASTER_KEY: randomBytes(32).toString('hex'),
    AIM_ADMIN_EMAIL: admin.email,
    AIM_ADMIN_PASSWORD: admin.password,
  };
}

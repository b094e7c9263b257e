import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { REDIS_TEST_URL } from './databases.js';

/** A key prefix no other test uses, so tests can share the one Redis and clean up after themselves. */
export function uniqueRedisPrefix(label = 'test'): string {
  return `aimtest:${label}:${randomBytes(6).toString('hex')}:`;
}

/** Deletes every key under a prefix. */
export async function dropRedisPrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_TEST_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

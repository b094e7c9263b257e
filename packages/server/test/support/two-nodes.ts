import type { ManualClock } from '../../src/core/clock.js';
import { REDIS_TEST_URL } from './databases.js';
import { dropRedisPrefix, uniqueRedisPrefix } from './redis.js';
import { startTestServer, type TestServer } from './server.js';
import { TcpProxy } from './tcp-proxy.js';

/**
 * Two nodes on one PostgreSQL database, data dir, issuer and Redis prefix, on the test's clock: `a` reaches Redis
 * directly, `b` through a proxy the test can cut, stall and restore. Runs `test`, then stops both and cleans up.
 */
export async function withTwoNodes(
  options: { name: string; clock: ManualClock; env?: Record<string, string> },
  test: (nodes: { a: TestServer; b: TestServer; proxy: TcpProxy }) => Promise<void>,
): Promise<void> {
  const prefix = uniqueRedisPrefix(options.name);
  const proxy = TcpProxy.forUrl(REDIS_TEST_URL);
  await proxy.start();
  const env = { AIM_REDIS_PREFIX: prefix, ...options.env };
  const a = await startTestServer({ store: 'postgres', clock: options.clock, env: { AIM_REDIS_URL: REDIS_TEST_URL, ...env } });
  try {
    const b = await startTestServer({
      store: 'postgres',
      clock: options.clock,
      env: {
        AIM_DATABASE_URL: a.database.databaseUrl!,
        AIM_DATA_DIR: a.database.dataDir,
        AIM_PUBLIC_URL: a.server.config.publicUrl,
        AIM_REDIS_URL: proxy.url(),
        ...env,
      },
    });
    try {
      await test({ a, b, proxy });
    } finally {
      await b.close();
    }
  } finally {
    await a.close();
    await proxy.cut();
    await dropRedisPrefix(prefix);
  }
}

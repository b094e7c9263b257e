import { createServer as createNetServer, type AddressInfo } from 'node:net';
import type { Role } from '@aim/protocol';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/core/logger.js';
import type { Clock } from '../../src/core/clock.js';
import { createServer, type AimServer } from '../../src/main.js';
import type { OrgId } from '../../src/core/ids.js';
import { createTestDatabase, REDIS_TEST_URL, type StoreKind, type TestDatabase } from './databases.js';
import { HttpClient } from './http.js';
import { LogCapture } from './logs.js';
import { dropRedisPrefix, uniqueRedisPrefix } from './redis.js';

export interface TestServer {
  server: AimServer;
  url: string;
  http: HttpClient;
  logs: LogCapture;
  database: TestDatabase;
  /** Creates a user directly through the service (no HTTP), in a new organization unless one is given. */
  createUser(options?: { email?: string; password?: string; role?: Role; organizationId?: string }): Promise<TestUser>;
  /** Creates a user and signs in over HTTP. */
  signIn(options?: { role?: Role; organizationId?: string }): Promise<SignedIn>;
  close(): Promise<void>;
}

export interface TestUser {
  id: string;
  email: string;
  password: string;
  organizationId: string;
}

export interface SignedIn extends TestUser {
  accessToken: string;
  refreshToken: string;
}

let counter = 0;

/** A port nobody listens on right now, so the server's public URL (its token issuer) can be its real address. */
export async function freePort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/**
 * `sharedState: 'redis'` keeps what the nodes of a cluster share (rate-limit counters, nonces, revocations) in the
 * test Redis under a prefix of this server's own, which `close()` deletes; by default it stays in memory.
 */
export async function startTestServer(
  options: { store?: StoreKind; clock?: Clock; env?: Record<string, string>; webDir?: string; sharedState?: 'memory' | 'redis' } = {},
): Promise<TestServer> {
  const database = await createTestDatabase(options.store ?? 'sqlite');
  const redisPrefix = options.sharedState === 'redis' ? uniqueRedisPrefix('server') : undefined;
  const port = await freePort();
  const config = loadConfig({
    AIM_PORT: String(port),
    AIM_DATA_DIR: database.dataDir,
    AIM_DATABASE_URL: database.databaseUrl,
    AIM_LOG_LEVEL: 'info',
    AIM_PUBLIC_URL: `http://127.0.0.1:${port}`,
    ...(redisPrefix && { AIM_REDIS_URL: REDIS_TEST_URL, AIM_REDIS_PREFIX: redisPrefix }),
    ...options.env,
  });
  const logs = new LogCapture();
  const server = await createServer(config, {
    ...(options.clock && { clock: options.clock }),
    ...(options.webDir !== undefined && { webDir: options.webDir }),
    logger: createLogger('info', logs),
  });
  await server.app.listen({ host: '127.0.0.1', port: config.port });
  const address = server.app.server.address();
  if (!address || typeof address === 'string') throw new Error('server did not bind');
  const url = `http://127.0.0.1:${address.port}`;
  const http = new HttpClient(url);

  const createUser: TestServer['createUser'] = async (o = {}) => {
    counter += 1;
    const email = o.email ?? `user${counter}-${Date.now()}@example.test`;
    const password = o.password ?? `pw-${counter}-correct-horse-battery`;
    const user = await server.services.users.create(
      { email, password, role: o.role ?? 'admin', ...(o.organizationId && { organizationId: o.organizationId as OrgId }) },
      { type: 'system' },
    );
    return { id: user.id, email, password, organizationId: user.organizationId };
  };

  return {
    server,
    url,
    http,
    logs,
    database,
    createUser,
    signIn: async (o = {}) => {
      const user = await createUser(o);
      const res = await http.post<{ access_token: string; refresh_token: string }>('/api/v1/public/login', {
        email: user.email,
        password: user.password,
      });
      if (res.status !== 200) throw new Error(`sign-in failed: ${res.status} ${res.text}`);
      return { ...user, accessToken: res.body.access_token, refreshToken: res.body.refresh_token };
    },
    close: async () => {
      await server.close();
      await database.drop();
      if (redisPrefix) await dropRedisPrefix(redisPrefix);
    },
  };
}

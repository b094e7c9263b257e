import { randomBytes } from 'node:crypto';
import { AIMClient } from '@aim/sdk';
import { createTestDatabase, type TestDatabase } from '../../server/test/support/databases.js';
import { startServerProcess, type ServerProcess } from '../../server/test/support/process.js';

/** A real server process (what `npm start` runs) with a first admin, for SDK and example tests. */
export interface LiveServer {
  process: ServerProcess;
  url: string;
  admin: { email: string; password: string };
  /** A client signed in as the admin with email and password. */
  adminClient: AIMClient;
  stop(): Promise<void>;
}

export async function startLiveServer(env: Record<string, string> = {}, admin?: { email: string; password: string }): Promise<LiveServer> {
  const database: TestDatabase = await createTestDatabase('sqlite');
  const who = admin ?? { email: `sdk-admin-${randomBytes(4).toString('hex')}@example.test`, password: 'sdk-admin-correct-horse-battery' };
  const process = await startServerProcess({
    AIM_DATA_DIR: database.dataDir,
    AIM_ADMIN_EMAIL: who.email,
    AIM_ADMIN_PASSWORD: who.password,
    AIM_RATE_LIMIT_PUBLIC: '10000',
    ...env,
  });
  return {
    process,
    url: process.url,
    admin: who,
    adminClient: new AIMClient({ baseUrl: process.url, auth: { email: who.email, password: who.password } }),
    stop: async () => {
      await process.stop();
      await database.drop();
    },
  };
}

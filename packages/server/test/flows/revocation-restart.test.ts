import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTestDatabase, STORE_KINDS } from '../support/databases.js';
import { startServerProcess } from '../support/process.js';

const admin = { email: 'restart-admin@example.test', password: 'restart-correct-horse-battery' };

/** An access token outlives its session by up to 15 minutes; a revocation must outlive a restart just as long. */
for (const store of STORE_KINDS) {
  describe(`revocations survive a restart (${store})`, () => {
    it('the access token of a session that logged out stays refused after the node restarts', async () => {
      const database = await createTestDatabase(store);
      const env = {
        AIM_DATA_DIR: database.dataDir,
        ...(database.databaseUrl && { AIM_DATABASE_URL: database.databaseUrl }),
        AIM_ADMIN_EMAIL: admin.email,
        AIM_ADMIN_PASSWORD: admin.password,
      };
      let node = await startServerProcess(env);
      try {
        const gone = (await node.http.post<{ access_token: string }>('/api/v1/public/login', admin)).body.access_token;
        const kept = (await node.http.post<{ access_token: string }>('/api/v1/public/login', admin)).body.access_token;
        assert.equal((await node.http.post('/api/v1/auth/logout', undefined, { token: gone })).status, 200);
        assert.equal((await node.http.get('/api/v1/auth/me', { token: gone })).status, 401);

        await node.stop();
        node = await startServerProcess(env);
        const after = await node.http.get('/api/v1/auth/me', { token: gone });
        assert.equal(after.status, 401, after.text);
        assert.equal(after.body.error, 'invalid_token');
        assert.equal((await node.http.get('/api/v1/auth/me', { token: kept })).status, 200, 'other sessions are untouched');
      } finally {
        await node.stop();
        await database.drop();
      }
    });
  });
}

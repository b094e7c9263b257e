import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from './load.js';
import { SETTINGS } from './schema.js';
import { configTable } from './docs.js';

describe('configuration', () => {
  it('has the contract defaults', () => {
    const c = loadConfig({});
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.port, 8080);
    assert.equal(c.dataDir, './data');
    assert.equal(c.databaseUrl, undefined);
    assert.equal(c.environment, 'live');
    assert.equal(c.accessTokenTtl, 900);
    assert.equal(c.refreshTokenTtl, 604800);
    assert.equal(c.signatureWindow, 300);
    assert.equal(c.keyMaxAgeDays, 90);
    assert.equal(c.apiKeyMaxAgeDays, 90);
    assert.equal(c.rateLimitJwt, 1000);
    assert.equal(c.rateLimitApiKey, 5000);
    assert.equal(c.rateLimitOauth, 1000);
    assert.equal(c.rateLimitPublic, 100);
    assert.equal(c.requireAdminMfa, false);
    assert.equal(c.publicUrl, 'http://localhost:8080');
  });

  const bad: Array<[string, string]> = [
    ['AIM_PORT', 'eighty'],
    ['AIM_PORT', '70000'],
    ['AIM_ENVIRONMENT', 'staging'],
    ['AIM_DATABASE_URL', 'mysql://x'],
    ['AIM_REDIS_URL', 'not a url'],
    ['AIM_PUBLIC_URL', 'ftp://x'],
    ['AIM_PUBLIC_URL', 'https://example.com/aim'],
    ['AIM_PUBLIC_URL', 'https://example.com/?tenant=1'],
    ['AIM_PUBLIC_URL', 'https://admin:secret@example.com'],
    ['AIM_PUBLIC_URL', 'https://example.com/#top'],
    ['AIM_MASTER_KEY', 'short'],
    ['AIM_MASTER_KEY_PREVIOUS', 'short'],
    ['AIM_MASTER_KEY_PREVIOUS', `${'ab'.repeat(32)},not-a-key`],
    ['AIM_REQUIRE_ADMIN_MFA', 'yes'],
    ['AIM_LOG_LEVEL', 'loud'],
    ['AIM_ACCESS_TOKEN_TTL', '5'],
    ['AIM_RATE_LIMIT_PUBLIC', '-1'],
    ['AIM_CORS_ORIGINS', '*'],
    ['AIM_CORS_ORIGINS', 'https://app.example.com/path'],
    ['AIM_CORS_ORIGINS', 'https://ok.example.com,javascript:alert(1)'],
    ['AIM_AUDIT_RETENTION_DAYS', '0'],
    ['AIM_AUDIT_RETENTION_DAYS', 'forever'],
    ['AIM_ALERT_WEBHOOK_URL', 'ftp://siem.example'],
    ['AIM_ALERT_WEBHOOK_SECRET', 'too-short'],
    ['AIM_METRICS_TOKEN', 'x'.repeat(31)],
    ['AIM_METRICS_TOKEN', `${'x'.repeat(32)} with spaces`],
    ['AIM_REAUTH_WINDOW', '0'],
    ['AIM_REAUTH_WINDOW', 'ten minutes'],
    ['AIM_ADMIN_PASSWORD', 'short'],
    ['AIM_ADMIN_PASSWORD', 'password1234'],
  ];
  for (const [name, value] of bad) {
    it(`refuses ${name}=${value} with one line naming the variable`, () => {
      assert.throws(
        () => loadConfig({ [name]: value }),
        (error: unknown) => error instanceof ConfigError && error.message.startsWith(`${name}:`) && !error.message.includes('\n'),
      );
    });
  }

  it('never echoes a rejected value (it may be a secret)', () => {
    assert.throws(() => loadConfig({ AIM_MASTER_KEY: 'super-secret-but-wrong' }), (e: unknown) => !String(e).includes('super-secret'));
    assert.throws(() => loadConfig({ AIM_ADMIN_EMAIL: 'a@b.co', AIM_ADMIN_PASSWORD: 'qwertyuiop123' }), (e: unknown) => /too easy to guess/.test(String(e)) && !String(e).includes('qwertyuiop'));
  });

  it('unset, the public URL follows the port; set, it is kept as given', () => {
    assert.equal(loadConfig({ AIM_PORT: '9090' }).publicUrl, 'http://localhost:9090');
    assert.equal(loadConfig({ AIM_PORT: '9090', AIM_PUBLIC_URL: 'https://aim.example.com/' }).publicUrl, 'https://aim.example.com');
    assert.equal(loadConfig({ AIM_PUBLIC_URL: 'HTTPS://Aim.Example.com:443' }).publicUrl, 'https://aim.example.com', 'the issuer is the normal form');
    assert.equal(loadConfig({ AIM_PORT: '0' }).publicUrl, 'http://localhost:8080', 'a port picked at bind time is not known yet');
  });

  it('admin email and password come together', () => {
    assert.throws(() => loadConfig({ AIM_ADMIN_EMAIL: 'a@b.co' }), ConfigError);
  });

  it('reads CORS origins as a list, and audit retention as days (unset: keep forever)', () => {
    assert.deepEqual(loadConfig({ AIM_CORS_ORIGINS: 'https://a.example.com, http://localhost:5173' }).corsOrigins, [
      'https://a.example.com',
      'http://localhost:5173',
    ]);
    assert.equal(loadConfig({}).corsOrigins, undefined);
    assert.equal(loadConfig({}).auditRetentionDays, undefined);
    assert.equal(loadConfig({ AIM_AUDIT_RETENTION_DAYS: '365' }).auditRetentionDays, 365);
  });

  it('an alert webhook is never unsigned: its URL needs the secret', () => {
    assert.throws(
      () => loadConfig({ AIM_ALERT_WEBHOOK_URL: 'https://siem.example/hook' }),
      (error: unknown) => error instanceof ConfigError && error.message.startsWith('AIM_ALERT_WEBHOOK_SECRET:'),
    );
    const c = loadConfig({ AIM_ALERT_WEBHOOK_URL: 'https://siem.example/hook', AIM_ALERT_WEBHOOK_SECRET: 'a-long-enough-secret' });
    assert.equal(c.alertWebhookUrl, 'https://siem.example/hook');
  });

  it('accepts a 32-byte master key as hex or base64', () => {
    assert.doesNotThrow(() => loadConfig({ AIM_MASTER_KEY: 'ab'.repeat(32) }));
    assert.doesNotThrow(() => loadConfig({ AIM_MASTER_KEY: Buffer.alloc(32, 7).toString('base64') }));
  });

  it('reads previous master keys as a list, only next to AIM_MASTER_KEY, never echoing them', () => {
    const a = Buffer.alloc(32, 1).toString('base64');
    const b = 'cd'.repeat(32);
    const c = loadConfig({ AIM_MASTER_KEY: 'ab'.repeat(32), AIM_MASTER_KEY_PREVIOUS: `${a}, ${b}` });
    assert.deepEqual(c.masterKeyPrevious, [a, b]);
    assert.equal(loadConfig({}).masterKeyPrevious, undefined);
    assert.throws(
      () => loadConfig({ AIM_MASTER_KEY_PREVIOUS: a }),
      (error: unknown) => error instanceof ConfigError && error.message.startsWith('AIM_MASTER_KEY_PREVIOUS:') && !error.message.includes(a),
    );
    assert.throws(() => loadConfig({ AIM_MASTER_KEY_PREVIOUS: `${a},secret-but-wrong` }), (e: unknown) => !String(e).includes('secret-but-wrong'));
  });

  it('every contract variable is in the schema, and the README table is the generated one', () => {
    const envs = Object.values(SETTINGS).map((s) => s.env);
    for (const name of ['AIM_HOST', 'AIM_PORT', 'AIM_DATA_DIR', 'AIM_DATABASE_URL', 'AIM_REDIS_URL', 'AIM_PUBLIC_URL', 'AIM_ENVIRONMENT',
      'AIM_ADMIN_EMAIL', 'AIM_ADMIN_PASSWORD', 'AIM_MASTER_KEY', 'AIM_RATE_LIMIT_JWT', 'AIM_RATE_LIMIT_API_KEY', 'AIM_RATE_LIMIT_OAUTH',
      'AIM_RATE_LIMIT_PUBLIC', 'AIM_ACCESS_TOKEN_TTL', 'AIM_REFRESH_TOKEN_TTL', 'AIM_SIGNATURE_WINDOW', 'AIM_KEY_MAX_AGE_DAYS',
      'AIM_API_KEY_MAX_AGE_DAYS', 'AIM_REQUIRE_ADMIN_MFA', 'AIM_LOG_LEVEL']) {
      assert.ok(envs.includes(name), `${name} missing from the schema`);
    }
    const readme = readFileSync(new URL('../../../../README.md', import.meta.url), 'utf8');
    assert.ok(readme.includes(configTable()), 'README configuration table is stale: run `npm run docs`');
  });
});

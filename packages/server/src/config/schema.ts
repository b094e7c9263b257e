import { z } from 'zod';
import { tooEasyToGuess } from '../users/password-strength.js';

/**
 * Every setting AIM reads, in one place: its environment variable, default, and meaning.
 * The README's configuration table is generated from this list (`npm run docs`), so the two cannot drift.
 */
interface Setting<T extends z.ZodTypeAny> {
  env: string;
  /** Shown in the docs; `undefined` means unset. */
  default: string | undefined;
  doc: string;
  schema: T;
}

const setting = <T extends z.ZodTypeAny>(s: Setting<T>) => s;

const boolean = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const url = (protocols: string[]) =>
  z.string().refine((v) => URL.canParse(v) && protocols.includes(new URL(v).protocol), `must be a ${protocols.join(' or ')} URL`);

export const SETTINGS = {
  host: setting({ env: 'AIM_HOST', default: '127.0.0.1', doc: 'Address to listen on.', schema: z.string().min(1) }),
  port: setting({ env: 'AIM_PORT', default: '8080', doc: 'Port to listen on (0 picks a free one).', schema: int(0, 65535) }),
  dataDir: setting({
    env: 'AIM_DATA_DIR',
    default: './data',
    doc: 'Embedded SQLite store and generated secrets (files created 0600; existing ones that others can read are narrowed at start, or start-up stops naming the file).',
    schema: z.string().min(1),
  }),
  databaseUrl: setting({
    env: 'AIM_DATABASE_URL',
    default: undefined,
    doc: '`postgres://…` selects PostgreSQL instead of SQLite.',
    schema: url(['postgres:', 'postgresql:']).optional(),
  }),
  databasePoolSize: setting({
    env: 'AIM_DATABASE_POOL_SIZE',
    default: '10',
    doc: 'PostgreSQL connections per node.',
    schema: int(1, 200),
  }),
  migrateOnStart: setting({
    env: 'AIM_MIGRATE_ON_START',
    default: 'true',
    doc: 'Run pending migrations at start. `false` (production): a node with pending migrations refuses to start; run `aim migrate` first.',
    schema: boolean,
  }),
  redisUrl: setting({
    env: 'AIM_REDIS_URL',
    default: undefined,
    doc: '`redis://…` keeps rate-limit counters, used nonces and revocations in Redis, shared by every node.',
    schema: url(['redis:', 'rediss:']).optional(),
  }),
  redisPrefix: setting({
    env: 'AIM_REDIS_PREFIX',
    default: 'aim:',
    doc: 'Prefix of every Redis key, so several deployments can share one Redis.',
    schema: z.string().min(1).max(64),
  }),
  publicUrl: setting({
    env: 'AIM_PUBLIC_URL',
    default: 'http://localhost:8080',
    doc: 'Issuer of tokens and base of links, an origin with no path (AIM serves at the root of its host); unset, `http://localhost:<AIM_PORT>`. `https://` turns on Secure cookies and HSTS.',
    // A path would name routes, cookie paths and discovery documents the server does not serve there.
    schema: z
      .string()
      .refine(isPublicOrigin, 'must be an http or https origin (scheme://host[:port]) with no path, query or credentials')
      .transform((v) => new URL(v).origin),
  }),
  environment: setting({
    env: 'AIM_ENVIRONMENT',
    default: 'live',
    doc: '`live` or `test`: API keys of the other environment are refused.',
    schema: z.enum(['live', 'test']),
  }),
  adminEmail: setting({
    env: 'AIM_ADMIN_EMAIL',
    default: undefined,
    doc: 'On start, when no user exists yet, create this admin.',
    schema: z.string().email().optional(),
  }),
  adminPassword: setting({
    env: 'AIM_ADMIN_PASSWORD',
    default: undefined,
    doc: 'Password of that first admin (at least 12 characters, and not a common or easily guessed one).',
    schema: z
      .string()
      .min(12)
      .max(1024)
      .refine((password) => !tooEasyToGuess(password), 'too easy to guess (a common password or pattern): use a few unrelated words')
      .optional(),
  }),
  masterKey: setting({
    env: 'AIM_MASTER_KEY',
    default: undefined,
    doc: '32 bytes, base64 or hex. Encrypts private signing keys and TOTP secrets at rest. Unset: generated into the data dir.',
    schema: z
      .string()
      .refine((v) => decodeKey(v) !== undefined, 'must be 32 bytes as base64 or 64 hex characters')
      .optional(),
  }),
  masterKeyPrevious: setting({
    env: 'AIM_MASTER_KEY_PREVIOUS',
    default: undefined,
    doc: 'During a master key rotation: the old key(s), comma-separated, same encodings as AIM_MASTER_KEY. They open values sealed before the rotation and verify CSRF tokens made with them, but never seal; `aim master-key reseal` moves every value to AIM_MASTER_KEY, after which this is unset.',
    schema: z
      .string()
      .refine((v) => v.split(',').every((k) => decodeKey(k.trim()) !== undefined), 'must be comma-separated 32-byte keys, each base64 or 64 hex characters')
      .transform((v) => v.split(',').map((k) => k.trim()))
      .optional(),
  }),
  rateLimitJwt: setting({ env: 'AIM_RATE_LIMIT_JWT', default: '1000', doc: 'Requests per minute per user (JWT).', schema: int(1, 10_000_000) }),
  rateLimitApiKey: setting({
    env: 'AIM_RATE_LIMIT_API_KEY',
    default: '5000',
    doc: 'Requests per minute per API key (a key may set its own).',
    schema: int(1, 10_000_000),
  }),
  rateLimitOauth: setting({
    env: 'AIM_RATE_LIMIT_OAUTH',
    default: '1000',
    doc: 'Requests per minute per OAuth client.',
    schema: int(1, 10_000_000),
  }),
  rateLimitPublic: setting({
    env: 'AIM_RATE_LIMIT_PUBLIC',
    default: '100',
    doc: 'Requests per minute per client address on public routes.',
    schema: int(1, 10_000_000),
  }),
  passwordHashConcurrency: setting({
    env: 'AIM_PASSWORD_HASH_CONCURRENCY',
    default: undefined,
    doc: 'argon2id hashes computed at once; unset: one fewer than the CPU cores (at least 1), so a login storm leaves a core for every other route.',
    schema: int(1, 64).optional(),
  }),
  passwordHashQueue: setting({
    env: 'AIM_PASSWORD_HASH_QUEUE',
    default: '64',
    doc: 'Password checks allowed to wait for a hashing slot; past that, 503 `service_unavailable` with `Retry-After`.',
    schema: int(1, 100_000),
  }),
  accessTokenTtl: setting({ env: 'AIM_ACCESS_TOKEN_TTL', default: '900', doc: 'Access token lifetime, seconds.', schema: int(60, 86_400) }),
  refreshTokenTtl: setting({
    env: 'AIM_REFRESH_TOKEN_TTL',
    default: '604800',
    doc: 'Refresh token lifetime, seconds.',
    schema: int(300, 31_536_000),
  }),
  refreshReuseGrace: setting({
    env: 'AIM_REFRESH_REUSE_GRACE_SECONDS',
    default: '0',
    doc: 'Seconds after a rotation in which presenting the replaced refresh token again, while its successor is unused, counts as a client retrying a lost response (a fresh successor replaces the unused one) instead of reuse. 0: every second presentation revokes the family.',
    schema: int(0, 60),
  }),
  reauthWindow: setting({
    env: 'AIM_REAUTH_WINDOW',
    default: '600',
    doc: 'Seconds after a password sign-in (or `POST /api/v1/auth/reauthenticate`) during which a session may take the steps that mint lasting credentials or take over accounts: SDK tokens, API keys and their rotation, registering agents, setting an agent key, creating users, roles, re-enabling, password and 2FA resets, 2FA enrolment. Later they answer 403 `reauthentication_required` until the password is confirmed again.',
    schema: int(30, 86_400),
  }),
  passwordResetTtl: setting({
    env: 'AIM_PASSWORD_RESET_TTL',
    default: '3600',
    doc: 'Seconds a password reset link made by an admin (or `aim user reset-password`) stays usable; it works once.',
    schema: int(300, 7 * 86_400),
  }),
  signatureWindow: setting({
    env: 'AIM_SIGNATURE_WINDOW',
    default: '300',
    doc: 'Seconds a signed timestamp may differ from server time.',
    schema: int(1, 3600),
  }),
  keyMaxAgeDays: setting({ env: 'AIM_KEY_MAX_AGE_DAYS', default: '90', doc: 'Agent key lifetime, days.', schema: int(1, 3650) }),
  keyRotationGrace: setting({
    env: 'AIM_KEY_ROTATION_GRACE',
    default: '86400',
    doc: 'Seconds an agent key keeps verifying after it was rotated out.',
    schema: int(0, 30 * 86_400),
  }),
  keyRotationNoticeDays: setting({
    env: 'AIM_KEY_ROTATION_NOTICE_DAYS',
    default: '7',
    doc: 'Days before an agent key expires from which responses say rotation is due.',
    schema: int(0, 365),
  }),
  sdkTokenMaxAgeDays: setting({
    env: 'AIM_SDK_TOKEN_MAX_AGE_DAYS',
    default: '90',
    doc: 'Longest lifetime of an SDK token (a refresh-token family), days.',
    schema: int(1, 3650),
  }),
  apiKeyMaxAgeDays: setting({ env: 'AIM_API_KEY_MAX_AGE_DAYS', default: '90', doc: 'API key lifetime, days.', schema: int(1, 3650) }),
  apiKeyRotationGrace: setting({
    env: 'AIM_API_KEY_ROTATION_GRACE',
    default: '86400',
    doc: 'Seconds a rotated API key keeps working next to its successor (0: it stops at once).',
    schema: int(0, 2_592_000),
  }),
  apiKeyUsageRetentionDays: setting({
    env: 'AIM_API_KEY_USAGE_RETENTION_DAYS',
    default: '400',
    doc: 'API key request counts (per day and route) older than this many days are pruned at start and daily. The default keeps a year of daily history (`GET /api/v1/api-keys/{id}/usage?days=` goes back at most 366) plus a margin.',
    schema: int(1, 36_500),
  }),
  requireAdminMfa: setting({
    env: 'AIM_REQUIRE_ADMIN_MFA',
    default: 'false',
    doc: 'When `true`, admin-only endpoints answer 403 `mfa_enrollment_required` until the admin has 2FA.',
    schema: boolean,
  }),
  metricsToken: setting({
    env: 'AIM_METRICS_TOKEN',
    default: undefined,
    doc: 'When set (at least 32 characters), `GET /metrics` answers only requests with `Authorization: Bearer <this token>` (401 `invalid_token` otherwise). Unset: `/metrics` is open; keep it off the public network.',
    // A static secret a scraper holds: long enough that guessing it through the endpoint is hopeless.
    schema: z.string().min(32, 'must be at least 32 characters').max(1024).regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces').optional(),
  }),
  logLevel: setting({
    env: 'AIM_LOG_LEVEL',
    default: 'info',
    doc: 'pino level: fatal, error, warn, info, debug, trace or silent.',
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  }),
  bodyLimit: setting({
    env: 'AIM_BODY_LIMIT',
    default: '65536',
    doc: 'Largest request body accepted, bytes; larger ones get 413.',
    schema: int(1024, 10_485_760),
  }),
  trustProxy: setting({
    env: 'AIM_TRUST_PROXY',
    default: undefined,
    doc: 'Comma-separated addresses or CIDRs of proxies whose `X-Forwarded-For` is believed. Unset: none.',
    schema: z.string().optional(),
  }),
  alertWebhookUrl: setting({
    env: 'AIM_ALERT_WEBHOOK_URL',
    default: undefined,
    doc: 'Where new alerts (and, at most once a minute each, their repeats) are POSTed as signed JSON. Unset: no webhook.',
    schema: url(['http:', 'https:']).optional(),
  }),
  alertWebhookSecret: setting({
    env: 'AIM_ALERT_WEBHOOK_SECRET',
    default: undefined,
    doc: 'Shared secret (at least 16 characters) that signs each webhook: `X-AIM-Signature: t=<unix>,v1=<HMAC-SHA256 hex of "<t>.<body>">`.',
    schema: z.string().min(16).max(1024).optional(),
  }),
  corsOrigins: setting({
    env: 'AIM_CORS_ORIGINS',
    default: undefined,
    doc: 'Comma-separated origins (`https://app.example.com`) allowed to call the API from a browser, without cookies. Unset: CORS closed.',
    schema: z
      .string()
      .refine((v) => v.split(',').every((o) => isOrigin(o.trim())), 'must be comma-separated origins such as https://app.example.com (no paths, no *)')
      .transform((v) => v.split(',').map((o) => o.trim()))
      .optional(),
  }),
  auditRetentionDays: setting({
    env: 'AIM_AUDIT_RETENTION_DAYS',
    default: undefined,
    doc: 'Audit entries older than this many days are pruned at start and daily; the chain stays verifiable from an anchor. Unset: kept forever.',
    schema: int(1, 36_500).optional(),
  }),
} as const;

type Settings = typeof SETTINGS;
export type Config = { [K in keyof Settings]: z.output<Settings[K]['schema']> };

/** Decodes a 32-byte key given as base64 (standard or url) or hex. */
export function decodeKey(value: string): Buffer | undefined {
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(value)) {
    const bytes = Buffer.from(value, value.includes('-') || value.includes('_') ? 'base64url' : 'base64');
    return bytes.length === 32 ? bytes : undefined;
  }
  return undefined;
}

/** An http(s) URL that names only an origin, though perhaps not in its normal form (`HTTPS://Aim.Example.com/`). */
function isPublicOrigin(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.pathname === '/' && !url.search && !url.hash && !url.username && !url.password;
}

/** An origin as browsers send it: scheme, host and optional port, nothing else. */
function isOrigin(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value;
}

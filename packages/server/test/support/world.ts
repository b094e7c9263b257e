import { randomBytes } from 'node:crypto';
import { setCookies } from './cookies.js';
import { newKeyPair, signedAction, type TestKeyPair } from './agents.js';
import type { HttpClient, HttpResult } from './http.js';

/**
 * A populated organization built over HTTP only, for tests that drive a server process (fuzzing, crash safety,
 * soak): the bootstrap admin, a member, API keys, agents with keys, a verification, an SDK token and a web session.
 */
export const ADMIN_EMAIL = 'proving-ground-admin@example.test';
export const ADMIN_PASSWORD = 'proving-ground-admin-passphrase';

/** Environment for a server process that the proving-ground drives hard: bootstrap admin, limits out of the way. */
export function provingGroundEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    AIM_ADMIN_EMAIL: ADMIN_EMAIL,
    AIM_ADMIN_PASSWORD: ADMIN_PASSWORD,
    AIM_RATE_LIMIT_PUBLIC: '10000000',
    AIM_RATE_LIMIT_JWT: '10000000',
    AIM_RATE_LIMIT_API_KEY: '10000000',
    AIM_RATE_LIMIT_OAUTH: '10000000',
    AIM_LOG_LEVEL: 'info',
    // Lets tests give each sign-in its own address, so login throttling by address does not lock the harness out.
    AIM_TRUST_PROXY: '127.0.0.1',
    ...extra,
  };
}

export function expectStatus<T>(res: HttpResult<T>, status: number, what: string): HttpResult<T> {
  if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status} ${res.text.slice(0, 300)}`);
  return res;
}

export const freshAddress = () => `10.${randomBytes(1)[0]}.${randomBytes(1)[0]}.${randomBytes(1)[0]}`;

export interface Session {
  accessToken: string;
  refreshToken: string;
  userId: string;
}

export async function login(http: HttpClient, email: string, password: string, headers: Record<string, string> = {}): Promise<Session> {
  const res = expectStatus(
    await http.post<{ access_token: string; refresh_token: string; user: { id: string } }>('/api/v1/public/login', { email, password }, { headers: { 'x-forwarded-for': freshAddress(), ...headers } }),
    200,
    `login ${email}`,
  );
  return { accessToken: res.body.access_token, refreshToken: res.body.refresh_token, userId: res.body.user.id };
}

export async function createApiKey(http: HttpClient, token: string, scopes: string[], name = `key-${randomBytes(4).toString('hex')}`): Promise<{ id: string; key: string }> {
  const res = expectStatus(await http.post<{ id: string; key: string }>('/api/v1/api-keys', { name, scopes }, { token }), 201, 'create API key');
  return { id: res.body.id, key: res.body.key };
}

export interface WorldAgent {
  id: string;
  keyId: string;
  keys: TestKeyPair;
}

export async function createAgent(http: HttpClient, credential: { token?: string; apiKey?: string }, capabilities = ['files:*', 'search']): Promise<WorldAgent> {
  const keys = newKeyPair();
  const res = expectStatus(
    await http.post<{ agent_id: string; key_id: string }>(
      '/api/v1/agents',
      { name: `agent-${randomBytes(6).toString('hex')}`, type: 'agent', capabilities, public_key: keys.publicKey },
      credential,
    ),
    201,
    'register agent',
  );
  return { id: res.body.agent_id, keyId: res.body.key_id, keys };
}

export async function verifyAction(http: HttpClient, credential: { token?: string; apiKey?: string }, agent: WorldAgent, action = 'files:read', resource = '/data/report.csv') {
  return http.post<{ verification_id: string; verified: boolean }>(`/api/v1/agents/${agent.id}/verify-action`, signedAction(agent.id, agent.keys.privateKey, action, resource), credential);
}

export interface World {
  admin: Session;
  member: Session & { email: string; password: string };
  adminKey: string;
  readKey: string;
  web: { rt: string; csrf: string };
  /** Victims: real ids the fuzzer may use (and damage) in path parameters, keyed by parameter name. */
  pool: Map<string, string[]>;
}

export async function buildWorld(http: HttpClient): Promise<World> {
  const admin = await login(http, ADMIN_EMAIL, ADMIN_PASSWORD);
  const member = await newUser(http, admin.accessToken, 'member');
  const victimUser = await newUser(http, admin.accessToken, 'viewer');
  const adminKey = await createApiKey(http, admin.accessToken, ['admin']);
  const readKey = await createApiKey(http, admin.accessToken, ['agents:read']);
  const victimKey = await createApiKey(http, admin.accessToken, ['agents:read', 'verify']);
  const agents = [await createAgent(http, { token: admin.accessToken }), await createAgent(http, { apiKey: adminKey.key })];
  const verification = expectStatus(await verifyAction(http, { apiKey: adminKey.key }, agents[0]!), 200, 'verify action');
  const sdk = expectStatus(await http.post<{ id: string }>('/api/v1/sdk-tokens', { name: 'fuzz victim' }, { token: admin.accessToken }), 201, 'sdk token');
  return {
    admin,
    member,
    adminKey: adminKey.key,
    readKey: readKey.key,
    web: await webLogin(http, member.email, member.password),
    pool: new Map([
      ['id', [...agents.map((a) => a.id), victimKey.id, victimUser.userId, sdk.body.id, verification.body.verification_id]],
      ['keyId', agents.map((a) => a.keyId)],
    ]),
  };
}

async function newUser(http: HttpClient, token: string, role: string): Promise<Session & { email: string; password: string }> {
  const email = `u-${randomBytes(6).toString('hex')}@example.test`;
  const password = `pw-${randomBytes(12).toString('hex')}`;
  expectStatus(await http.post('/api/v1/users', { email, password, role }, { token }), 201, `create ${role}`);
  return { ...(await login(http, email, password)), email, password };
}

export async function webLogin(http: HttpClient, email: string, password: string): Promise<{ rt: string; csrf: string }> {
  const res = expectStatus(await http.post('/api/v1/public/login', { email, password }, { headers: { 'x-aim-client': 'web', 'x-forwarded-for': freshAddress() } }), 200, 'web login');
  const cookies = setCookies(res.headers);
  return { rt: cookies.get('aim_rt')!.value, csrf: cookies.get('aim_csrf')!.value };
}

import { request, requestBlob, requestPublic } from './client.js';
import type {
  Agent,
  AgentKey,
  AgentList,
  Alert,
  AlertStatus,
  ApiKey,
  ApiKeyUsage,
  AuditEntry,
  AuditCheckpoint,
  DayOfDecisions,
  IssuedPasswordReset,
  PasswordResetDone,
  AuditVerification,
  CreatedApiKey,
  ListedUser,
  RegisteredAgent,
  Revoked,
  Role,
  SdkToken,
  SignedInSession,
  User,
  Verification,
} from './types.js';

// Every API call the UI makes, typed. The @aim/sdk package could replace this module once it has a browser entry.

const id = encodeURIComponent;

export const auth = {
  me: () => request<User>('GET', '/api/v1/auth/me'),
  changePassword: (current_password: string, new_password: string, revoke_sdk_tokens: boolean) =>
    request<{ sessions_revoked: number; sdk_tokens_revoked: number }>('POST', '/api/v1/auth/password', { body: { current_password, new_password, revoke_sdk_tokens } }),
  // Setup and enable need a recent sign-in: the client confirms the password in a dialog when the server asks.
  totpSetup: () => request<{ secret: string; otpauth_url: string }>('POST', '/api/v1/auth/mfa/totp/setup', { body: {} }),
  totpEnable: (code: string) => request<{ recovery_codes: string[] }>('POST', '/api/v1/auth/mfa/totp/enable', { body: { code } }),
  totpDisable: (code: string) => request<{ mfa_enabled: boolean }>('POST', '/api/v1/auth/mfa/totp/disable', { body: { code } }),
  regenerateRecoveryCodes: (code: string) => request<{ recovery_codes: string[] }>('POST', '/api/v1/auth/mfa/recovery-codes', { body: { code } }),
  sessions: () => request<{ sessions: SignedInSession[] }>('GET', '/api/v1/auth/sessions'),
  revokeSession: (sessionId: string) => request<SignedInSession>('POST', `/api/v1/auth/sessions/${id(sessionId)}/revoke`),
  revokeOtherSessions: () => request<{ revoked: number }>('POST', '/api/v1/auth/sessions/revoke-others'),
};

export const agents = {
  list: (query: { q?: string; status?: string; type?: string; limit?: number; cursor?: string | null }) =>
    request<AgentList>('GET', '/api/v1/agents', { query }),
  get: (agentId: string) => request<Agent>('GET', `/api/v1/agents/${id(agentId)}`),
  register: (body: { name: string; type: string; capabilities: string[]; description?: string; public_key: string }) =>
    request<RegisteredAgent>('POST', '/api/v1/agents', { body }),
  update: (agentId: string, body: { capabilities?: string[]; description?: string | null; name?: string }) =>
    request<Agent>('PATCH', `/api/v1/agents/${id(agentId)}`, { body }),
  suspend: (agentId: string) => request<Agent>('POST', `/api/v1/agents/${id(agentId)}/suspend`),
  reactivate: (agentId: string) => request<Agent>('POST', `/api/v1/agents/${id(agentId)}/reactivate`),
  keys: (agentId: string) => request<{ keys: AgentKey[] }>('GET', `/api/v1/agents/${id(agentId)}/keys`),
  verifications: (agentId: string, limit = 25) =>
    request<{ verifications: Verification[]; next_cursor: string | null }>('GET', `/api/v1/agents/${id(agentId)}/verifications`, { query: { limit } }),
};

export const verifications = {
  list: (query: { decision?: string; limit?: number; cursor?: string | null }) =>
    request<{ verifications: Verification[]; next_cursor: string | null }>('GET', '/api/v1/verifications', { query }),
  stats: (days: number) => request<{ days: DayOfDecisions[] }>('GET', '/api/v1/verifications/stats', { query: { days } }),
};

export const apiKeys = {
  list: () => request<{ api_keys: ApiKey[]; total: number; next_cursor: string | null }>('GET', '/api/v1/api-keys', { query: { limit: 100 } }),
  create: (body: { name: string; scopes: string[]; expires_in_days?: number }) => request<CreatedApiKey>('POST', '/api/v1/api-keys', { body }),
  rotate: (keyId: string) => request<CreatedApiKey>('POST', `/api/v1/api-keys/${id(keyId)}/rotate`),
  revoke: (keyId: string, revokeMinted = false) =>
    request<ApiKey & { minted_revoked: number }>('DELETE', `/api/v1/api-keys/${id(keyId)}`, { query: { revoke_minted: revokeMinted ? 'true' : undefined } }),
  usage: (keyId: string, days = 30) => request<ApiKeyUsage>('GET', `/api/v1/api-keys/${id(keyId)}/usage`, { query: { days } }),
};

export const sdkTokens = {
  list: () => request<{ sdk_tokens: SdkToken[] }>('GET', '/api/v1/sdk-tokens'),
  revoke: (tokenId: string) => request<SdkToken>('POST', `/api/v1/sdk-tokens/${id(tokenId)}/revoke`),
  revokeAll: () => request<{ revoked: number }>('POST', '/api/v1/sdk-tokens/revoke-all'),
};

export const audit = {
  list: (query: { event?: string; actor?: string; subject?: string; since?: number; until?: number; limit?: number; cursor?: string | null }) =>
    request<{ entries: AuditEntry[]; next_cursor: string | null }>('GET', '/api/v1/audit-logs', { query }),
  verify: () => request<AuditVerification>('GET', '/api/v1/audit-logs/verify'),
  checkpoint: () => request<AuditCheckpoint>('GET', '/api/v1/audit-logs/checkpoint'),
  export: () => requestBlob('/api/v1/audit-logs/export', { format: 'jsonl' }),
};

export const alerts = {
  list: (query: { status?: AlertStatus | ''; limit?: number }) => request<{ alerts: Alert[]; next_cursor: string | null }>('GET', '/api/v1/alerts', { query }),
  acknowledge: (alertId: string) => request<Alert>('POST', `/api/v1/alerts/${id(alertId)}/acknowledge`),
  resolve: (alertId: string) => request<Alert>('POST', `/api/v1/alerts/${id(alertId)}/resolve`),
};

export const users = {
  list: () => request<{ users: ListedUser[] }>('GET', '/api/v1/users'),
  create: (body: { email: string; password: string; role: Role }) => request<User>('POST', '/api/v1/users', { body }),
  setRole: (userId: string, role: Role) => request<User & { revoked: Revoked }>('PATCH', `/api/v1/users/${id(userId)}`, { body: { role } }),
  disable: (userId: string) => request<ListedUser & { revoked: Revoked }>('POST', `/api/v1/users/${id(userId)}/disable`),
  enable: (userId: string) => request<ListedUser>('POST', `/api/v1/users/${id(userId)}/enable`),
  remove: (userId: string) => request<{ id: string; deleted: true; revoked: Revoked }>('DELETE', `/api/v1/users/${id(userId)}`),
  resetMfa: (userId: string) => request<ListedUser>('POST', `/api/v1/users/${id(userId)}/mfa/reset`),
  /** A one-time link replacing any earlier one; 409 for yourself or a disabled account. */
  resetPassword: (userId: string) => request<IssuedPasswordReset>('POST', `/api/v1/users/${id(userId)}/password-reset`),
};

/** The reset page's call: made without a session (see `requestPublic`). */
export const passwordReset = {
  complete: (token: string, new_password: string) => requestPublic<PasswordResetDone>('POST', '/api/v1/public/password-reset', { token, new_password }),
};

import { TokenManager, grantFor, type BearerCredentials, type Credentials } from './auth.js';
import { InvalidRequestError, InvalidTokenError, ReauthenticationRequiredError } from './errors.js';
import { INSPECT, inspectAs, redactCredentials, type Inspect } from './redact.js';
import { Transport, type RateLimitState, type TransportOptions } from './transport.js';
import type {
  AgentView,
  ApiKeyView,
  AuditCheckpointView,
  CompletedPasswordReset,
  IssuedApiKey,
  IssuedPasswordReset,
  IssuedSdkToken,
  Me,
  ReauthenticatedSession,
  Page,
  RevokedApiKey,
  RevokedCredentials,
  RotatedApiKey,
  SdkTokenView,
  SessionView,
  UserSummary,
  UserView,
  VerificationDay,
  VerifyDecision,
} from './types.js';
import { Agent, type AgentOptions, type RegisterAgentInput } from './agent.js';

export interface AIMClientOptions extends TransportOptions {
  /** How this client proves who it is: one of the credential shapes (password, session, API key, SDK token, agent). */
  auth: Credentials;
}

type Query = Record<string, string | number | undefined>;

/**
 * A client for one AIM server and one credential. It attaches the credential to every call, renews tokens before
 * they expire (one refresh in flight however many calls run at once), retries once with a fresh token when the
 * server says a token stopped working, and honours rate limits.
 *
 * @example
 * ```ts
 * import { AIMClient } from '@aim/sdk';
 *
 * const aim = new AIMClient({ baseUrl: 'https://aim.example.com', auth: { apiKey: process.env.AIM_API_KEY! } });
 * const agent = await aim.agents.register({ name: 'billing-bot', capabilities: ['invoices:*@invoice/*'] });
 * const decision = await agent.verifyAction('invoices:read', 'invoice/2024-001');
 * console.log(decision.allowed, decision.verification_id);
 * ```
 */
export class AIMClient {
  readonly transport: Transport;
  /** Present for credentials the SDK renews (all but API keys and bearer tokens you manage). */
  readonly tokens: TokenManager | undefined;
  // #private: the credential never shows in util.inspect or JSON output (see toJSON).
  readonly #options: AIMClientOptions;

  constructor(options: AIMClientOptions) {
    this.#options = options;
    this.transport = new Transport(options);
    const auth = options.auth;
    this.tokens = 'apiKey' in auth || 'accessToken' in auth ? undefined : new TokenManager(this.transport.now, grantFor(auth, this.transport));
  }

  /** The options this client was made with, credential included. */
  get options(): AIMClientOptions {
    return this.#options;
  }

  /** The credential (`options.auth`). */
  get credentials(): Credentials {
    return this.#options.auth;
  }

  /** What logging shows: the server and the kind of credential, its secrets as `[redacted]`. */
  toJSON(): Record<string, unknown> {
    return { baseUrl: this.baseUrl, auth: redactCredentials(this.credentials), tokens: this.tokens };
  }

  [INSPECT](_depth: number, options: unknown, inspect?: Inspect): string | object {
    return inspectAs('AIMClient', this.toJSON(), options, inspect);
  }

  /** The server's base URL, without a trailing slash. */
  get baseUrl(): string {
    return this.transport.baseUrl;
  }

  /** What the last answer's `RateLimit-*` headers said, if the route was limited. */
  get rateLimit(): RateLimitState | undefined {
    return this.transport.rateLimit;
  }

  /**
   * Any API call with this client's credential. Paths start with `/` and are relative to the base URL; any other is
   * refused (`InvalidRequestError`, nothing sent), since it could name another host or port.
   *
   * @example
   * ```ts
   * const { entries } = await aim.request<{ entries: unknown[] }>('GET', '/api/v1/audit-logs', { query: { limit: 10 } });
   * ```
   */
  async request<T>(method: string, path: string, options: { json?: unknown; query?: Query } = {}): Promise<T> {
    try {
      return await this.send<T>(method, path, options);
    } catch (error) {
      // A password client holds the password: past the server's AIM_REAUTH_WINDOW it confirms it and goes on.
      if (!(error instanceof ReauthenticationRequiredError) || !('email' in this.credentials)) throw error;
      await this.reauthenticate();
      return this.send<T>(method, path, options);
    }
  }

  private async send<T>(method: string, path: string, options: { json?: unknown; query?: Query }): Promise<T> {
    const target = path + queryString(options.query);
    if (!this.tokens) {
      return (await this.transport.send<T>({ method, path: target, json: options.json, headers: await this.fixedHeaders() })).body;
    }
    const token = await this.tokens.accessToken();
    try {
      return (await this.transport.send<T>({ method, path: target, json: options.json, headers: { authorization: `Bearer ${token}` } })).body;
    } catch (error) {
      // The token was revoked or expired early (e.g. a signing-key change): renew once and try again.
      if (!(error instanceof InvalidTokenError)) throw error;
      const fresh = await this.tokens.replace(token);
      return (await this.transport.send<T>({ method, path: target, json: options.json, headers: { authorization: `Bearer ${fresh}` } })).body;
    }
  }

  /** Headers for credentials the SDK does not renew: an API key, or a bearer token managed by the caller. */
  private async fixedHeaders(): Promise<Record<string, string>> {
    const auth = this.credentials;
    if ('apiKey' in auth) return { 'x-api-key': auth.apiKey };
    const { accessToken } = auth as BearerCredentials;
    return { authorization: `Bearer ${typeof accessToken === 'string' ? accessToken : await accessToken()}` };
  }

  /** Signs in now (the first call would otherwise do it lazily), so a wrong password or missing code shows at once. */
  async authenticate(): Promise<void> {
    await this.tokens?.accessToken();
  }

  /**
   * Confirms the password in this session, for the steps that ask for a recent sign-in (registering agents, creating
   * SDK tokens and API keys, rotating keys, administering people, enrolling 2FA) once the sign-in is older than the server's
   * `AIM_REAUTH_WINDOW` (10 minutes by default): they throw `ReauthenticationRequiredError` until then. A password
   * client does this by itself with its own password; a session client (what `aim login` keeps) gives `password`.
   * The new access token is used from here on (for a bearer-token client, take it from the answer). A wrong
   * password is `InvalidCredentialsError`, and counts toward the account's sign-in throttle.
   *
   * @example
   * ```ts
   * try {
   *   issued = await aim.sdkTokens.create({ name: 'ci' });
   * } catch (error) {
   *   if (!(error instanceof ReauthenticationRequiredError)) throw error;
   *   await aim.reauthenticate(await askForPassword());
   *   issued = await aim.sdkTokens.create({ name: 'ci' });
   * }
   * ```
   */
  async reauthenticate(password?: string): Promise<ReauthenticatedSession> {
    const auth = this.credentials;
    const given = password ?? ('email' in auth ? auth.password : undefined);
    if (given === undefined) throw new InvalidRequestError('invalid_request', 'give the password to confirm (nothing was sent)', 0);
    const started = this.transport.now();
    const answer = await this.send<ReauthenticatedSession>('POST', '/api/v1/auth/reauthenticate', { json: { password: given } });
    this.tokens?.adopt(answer.access_token, answer.expires_in, started);
    return answer;
  }

  /** Who this credential acts for (`GET /api/v1/auth/me`; people and SDK tokens). */
  me(): Promise<Me> {
    return this.request('GET', '/api/v1/auth/me');
  }

  /** Agents and MCP servers of your organization. */
  readonly agents = {
    list: (filter: { status?: string; type?: string; q?: string; limit?: number; cursor?: string } = {}) =>
      this.request<Page<'agents', AgentView>>('GET', '/api/v1/agents', { query: filter }),
    get: (id: string) => this.request<AgentView>('GET', `/api/v1/agents/${encodeURIComponent(id)}`),
    /**
     * Registers an agent with a key pair generated here: only the public key is sent. The returned `Agent` signs
     * with the private key; persist `agent.identity` (or use `secure()` from `@aim/sdk/node`, which does).
     *
     * @example
     * ```ts
     * const agent = await aim.agents.register({ name: 'crawler', capabilities: ['web:fetch', 'files:read@/reports/*'] });
     * await saveSomewhereSafe(agent.identity); // holds the private key
     * ```
     */
    register: (input: RegisterAgentInput, options: AgentOptions = {}) => Agent.register(this, input, options),
    suspend: (id: string) => this.request<AgentView>('POST', `/api/v1/agents/${encodeURIComponent(id)}/suspend`),
    reactivate: (id: string) => this.request<AgentView>('POST', `/api/v1/agents/${encodeURIComponent(id)}/reactivate`),
    remove: (id: string) => this.request<AgentView>('DELETE', `/api/v1/agents/${encodeURIComponent(id)}`),
  };

  /**
   * API keys: the key itself is only in `create`'s (and `rotate`'s) answer. A key minted with an `admin` key names
   * it in `minted_by`; revoking with `revokeMinted` also revokes every key minted from it, transitively.
   *
   * @example
   * ```ts
   * const stolen = await aim.apiKeys.revoke(id, { revokeMinted: true });
   * console.log(`revoked ${stolen.prefix}… and ${stolen.minted_revoked} key(s) minted with it`);
   * ```
   */
  readonly apiKeys = {
    create: (input: { name: string; scopes?: string[]; expiresInDays?: number; rateLimitPerMinute?: number }) =>
      this.request<IssuedApiKey>('POST', '/api/v1/api-keys', {
        json: {
          name: input.name,
          ...(input.scopes && { scopes: input.scopes }),
          ...(input.expiresInDays !== undefined && { expires_in_days: input.expiresInDays }),
          ...(input.rateLimitPerMinute !== undefined && { rate_limit_per_minute: input.rateLimitPerMinute }),
        },
      }),
    list: (page: { limit?: number; cursor?: string } = {}) => this.request<Page<'api_keys', ApiKeyView>>('GET', '/api/v1/api-keys', { query: page }),
    revoke: (id: string, options: { revokeMinted?: boolean } = {}) =>
      this.request<RevokedApiKey>('DELETE', `/api/v1/api-keys/${encodeURIComponent(id)}`, {
        ...(options.revokeMinted && { query: { revoke_minted: 'true' } }),
      }),
    rotate: (id: string) => this.request<RotatedApiKey>('POST', `/api/v1/api-keys/${encodeURIComponent(id)}/rotate`),
  };

  /**
   * SDK tokens: long-lived refresh tokens for `{ sdkToken }` clients, for the signed-in person. The token is in
   * `create`'s answer only; revoking stops every access token of its family at once.
   *
   * @example
   * ```ts
   * const issued = await aim.sdkTokens.create({ name: 'laptop', expiresInDays: 30 });
   * saveSomewhereSafe(issued.refresh_token);           // shown this once
   * const { sdk_tokens } = await aim.sdkTokens.list(); // name, status, last used: never the token
   * await aim.sdkTokens.revoke(issued.id);
   * const { revoked } = await aim.sdkTokens.revokeAll();
   * ```
   */
  readonly sdkTokens = {
    create: (input: { name: string; scopes?: string[]; expiresInDays?: number }) =>
      this.request<IssuedSdkToken>('POST', '/api/v1/sdk-tokens', {
        json: { name: input.name, ...(input.scopes && { scopes: input.scopes }), ...(input.expiresInDays !== undefined && { expires_in_days: input.expiresInDays }) },
      }),
    list: () => this.request<{ sdk_tokens: SdkTokenView[] }>('GET', '/api/v1/sdk-tokens'),
    revoke: (id: string) => this.request<SdkTokenView>('POST', `/api/v1/sdk-tokens/${encodeURIComponent(id)}/revoke`),
    /** Revokes every SDK token of the signed-in person; answers how many were still active. */
    revokeAll: () => this.request<{ revoked: number }>('POST', '/api/v1/sdk-tokens/revoke-all'),
  };

  /**
   * Your signed-in sessions (web UI and password logins; SDK tokens are `sdkTokens`). Needs a session's token: a
   * password client, or a session access token.
   *
   * @example
   * ```ts
   * const { sessions } = await aim.sessions.list();          // newest first; `current` is this client's
   * for (const s of sessions.filter((s) => !s.current && s.last_ip !== myOfficeIp)) await aim.sessions.revoke(s.id);
   * const { revoked } = await aim.sessions.revokeOthers();   // every other session signs out now
   * ```
   */
  readonly sessions = {
    list: () => this.request<{ sessions: SessionView[] }>('GET', '/api/v1/auth/sessions'),
    revoke: (id: string) => this.request<SessionView>('POST', `/api/v1/auth/sessions/${encodeURIComponent(id)}/revoke`),
    revokeOthers: () => this.request<{ revoked: number }>('POST', '/api/v1/auth/sessions/revoke-others'),
  };

  /**
   * Your own second factor (TOTP, RFC 6238), for a person's session (a password client, or a session access token).
   * Enrolling needs a recent sign-in: when the session's password sign-in is older than the server's
   * `AIM_REAUTH_WINDOW` (10 minutes by default), setup and enable throw `ReauthenticationRequiredError` unless
   * given `password`; a wrong one is `InvalidCredentialsError`.
   *
   * @example
   * ```ts
   * const { secret, otpauth_url } = await aim.mfa.totpSetup({ password });  // password: only if the sign-in is old
   * showQrCode(otpauth_url);
   * const { recovery_codes } = await aim.mfa.totpEnable(await askForCode(), { password });
   * keepSafe(recovery_codes);                                              // shown this once
   * ```
   */
  readonly mfa = {
    totpSetup: (options: { password?: string } = {}) =>
      this.request<{ secret: string; otpauth_url: string }>('POST', '/api/v1/auth/mfa/totp/setup', {
        json: options.password !== undefined ? { password: options.password } : {},
      }),
    totpEnable: (code: string, options: { password?: string } = {}) =>
      this.request<{ recovery_codes: string[] }>('POST', '/api/v1/auth/mfa/totp/enable', {
        json: { code, ...(options.password !== undefined && { password: options.password }) },
      }),
    /** Turns 2FA off with a current TOTP code or an unused recovery code. */
    totpDisable: (code: string) => this.request<{ mfa_enabled: boolean }>('POST', '/api/v1/auth/mfa/totp/disable', { json: { code } }),
    /** Ten new recovery codes (shown this once) for a current TOTP code; the old ones stop working. */
    regenerateRecoveryCodes: (code: string) => this.request<{ recovery_codes: string[] }>('POST', '/api/v1/auth/mfa/recovery-codes', { json: { code } }),
  };

  /**
   * People of your organization, for admins (a bearer token with `admin`; API keys cannot administer people).
   * Disabling and deleting revoke the person's sessions, SDK tokens and API keys at once, on every node.
   *
   * @example
   * ```ts
   * const { users } = await aim.users.list();
   * const leaver = users.find((u) => u.email === 'leaver@example.com')!;
   * const { revoked } = await aim.users.disable(leaver.id); // { sessions, api_keys }
   *
   * const link = await aim.users.passwordReset(forgetful.id); // hand link.reset_url over privately; it works once
   * ```
   */
  readonly users = {
    list: () => this.request<{ users: UserView[] }>('GET', '/api/v1/users'),
    create: (input: { email: string; password: string; role: UserView['role'] }) => this.request<UserSummary>('POST', '/api/v1/users', { json: input }),
    /** A role that loses any scope also ends the person's sessions and SDK tokens and revokes their API keys. */
    setRole: (id: string, role: UserView['role']) =>
      this.request<UserSummary & { revoked: RevokedCredentials }>('PATCH', `/api/v1/users/${encodeURIComponent(id)}`, { json: { role } }),
    disable: (id: string) => this.request<UserView & { revoked: RevokedCredentials }>('POST', `/api/v1/users/${encodeURIComponent(id)}/disable`),
    enable: (id: string) => this.request<UserView>('POST', `/api/v1/users/${encodeURIComponent(id)}/enable`),
    remove: (id: string) =>
      this.request<{ id: string; deleted: true; revoked: RevokedCredentials }>('DELETE', `/api/v1/users/${encodeURIComponent(id)}`),
    /** Removes another user's TOTP and recovery codes (a lost authenticator) and ends their sessions. */
    resetMfa: (id: string) => this.request<UserView>('POST', `/api/v1/users/${encodeURIComponent(id)}/mfa/reset`),
    /** A one-time password reset link for a user who forgot their password; a new one replaces the last. */
    passwordReset: (id: string) => this.request<IssuedPasswordReset>('POST', `/api/v1/users/${encodeURIComponent(id)}/password-reset`),
  };

  /**
   * Decisions of your organization per UTC day, oldest first, as the server counts them (needs `agents:read`).
   *
   * @param days how many days back, today included: 1 to 90 (the server's default is 14)
   * @example
   * ```ts
   * const week = await aim.verificationStats(7);
   * const denied = week.reduce((sum, d) => sum + d.denied, 0);
   * ```
   */
  async verificationStats(days?: number): Promise<VerificationDay[]> {
    const answer = await this.request<{ days: VerificationDay[] }>('GET', '/api/v1/verifications/stats', { query: { days } });
    return answer.days;
  }

  /**
   * A signed statement of your organization's audit chain head (needs `audit:read`). Keep `seq:hash` outside AIM:
   * `aim audit verify --checkpoint <seq>:<hash>` later proves the chain still holds that entry unchanged.
   *
   * @example
   * ```ts
   * const head = await aim.auditCheckpoint();
   * await appendToOffsiteLog(`${head.seq}:${head.hash}`, head.checkpoint); // checkpoint: a JWS checkable with the JWKS
   * ```
   */
  auditCheckpoint(): Promise<AuditCheckpointView> {
    return this.request<AuditCheckpointView>('GET', '/api/v1/audit-logs/checkpoint');
  }

  /**
   * Sends an already-signed action for any agent (most code uses `agent.verifyAction`, which signs too).
   * Answers the decision, allowed or not; errors are thrown typed.
   */
  verifySigned(agentId: string, signed: { action: string; resource: string; signature: string; timestamp: number; nonce: string }): Promise<VerifyDecision> {
    return this.request<VerifyDecision>('POST', `/api/v1/agents/${encodeURIComponent(agentId)}/verify-action`, { json: signed });
  }

  /**
   * Sets a new password with a reset link's token (no credentials needed: the link is the credential). Every
   * session of the account ends; 2FA stays. A used, expired or unknown link throws `InvalidGrantError`.
   *
   * @example
   * ```ts
   * const token = new URL(link).hash.replace('#token=', '');
   * const { email } = await AIMClient.completePasswordReset({ baseUrl: 'https://aim.example.com' }, token, newPassword);
   * ```
   */
  static async completePasswordReset(options: TransportOptions, token: string, newPassword: string): Promise<CompletedPasswordReset> {
    const answer = await new Transport(options).send<CompletedPasswordReset>({
      method: 'POST',
      path: '/api/v1/public/password-reset',
      json: { token, new_password: newPassword },
    });
    return answer.body;
  }

  /** Ends a password or session login on the server (`POST /api/v1/auth/logout`). */
  async logout(): Promise<void> {
    await this.request('POST', '/api/v1/auth/logout');
  }
}

function queryString(query: Query | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
  const text = params.toString();
  return text ? `?${text}` : '';
}

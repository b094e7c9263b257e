import { Ed25519KeyPair, signJwt, toBase64Url } from './crypto.js';
import { InvalidGrantError, InvalidTokenError, MfaRequiredError, RefreshTokenReusedError } from './errors.js';
import { INSPECT, REDACTED, inspectAs, type Inspect } from './redact.js';
import type { Transport } from './transport.js';

/** The SDK's OAuth client id at the token endpoint (a public client, RFC 6749 §2.1). */
export const SDK_CLIENT_ID = 'aim-sdk';
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/**
 * Where a rotated refresh token is kept. The token manager saves each new refresh token before it uses the access
 * token that came with it, so no call runs on a rotation the store has not kept. A process that dies between the
 * server's answer and the end of `save()` leaves only the spent token (reuse, unless the server's
 * `AIM_REFRESH_REUSE_GRACE_SECONDS` covers it). `@aim/sdk/node` has a file store that writes atomically (temp file +
 * rename, 0600).
 */
export interface RefreshTokenStore {
  save(refreshToken: string): Promise<void>;
}

/** Email and password (plus a TOTP or recovery code when the account has 2FA): a session with rotating refresh. */
export interface PasswordCredentials {
  email: string;
  password: string;
  /** A TOTP code, or a function asked for one only when the server answers `mfa_required`. */
  totpCode?: string | (() => Promise<string>);
  /** Keeps the session's rotating refresh token (e.g. for the next process). */
  store?: RefreshTokenStore;
}

/** A session refresh token from an earlier password login (what `aim login` keeps). */
export interface SessionCredentials {
  sessionRefreshToken: string;
  store?: RefreshTokenStore;
}

/** An API key (`ak_live_…`), sent as `X-API-Key` on every request. */
export interface ApiKeyCredentials {
  apiKey: string;
}

/** An SDK refresh token from `POST /api/v1/sdk-tokens`, traded at `/oauth/token`; each use rotates it. */
export interface SdkTokenCredentials {
  sdkToken: string;
  store?: RefreshTokenStore;
}

/** An agent proving itself with its own Ed25519 key: OAuth client_credentials with private_key_jwt (RFC 7523). */
export interface AgentCredentials {
  agentId: string;
  /** The agent's key pair, or its PKCS#8 PEM private key. */
  key: Ed25519KeyPair | string;
}

/**
 * An access token you manage yourself (a browser app holding the web UI's token, a CLI with its own cache), or a
 * function answering the current one. The SDK never refreshes it; a 401 is thrown as `InvalidTokenError`.
 */
export interface BearerCredentials {
  accessToken: string | (() => Promise<string>);
}

export type Credentials = PasswordCredentials | SessionCredentials | ApiKeyCredentials | SdkTokenCredentials | AgentCredentials | BearerCredentials;

/** What a grant returns: an access token, when it stops working, and maybe a new refresh token. */
interface TokenSet {
  accessToken: string;
  expiresAt: number;
  lifetimeMs: number;
  refreshToken?: string;
}

interface WireTokens {
  access_token: string;
  expires_in: number;
  refresh_token?: string;
}

/**
 * Holds the current access token and renews it shortly before it expires. Renewals are single-flight: however many
 * calls run at once, one refresh is in flight and they all wait for it, so a rotating refresh token is presented
 * exactly once (presenting it twice would trip the server's reuse detection and revoke the session).
 */
export class TokenManager {
  // #private: the tokens never show in util.inspect or JSON output.
  #current: TokenSet | undefined;
  #inFlight: Promise<TokenSet> | undefined;
  /** How many times a token was fetched; tests and metrics read it. */
  renewals = 0;

  constructor(
    private readonly now: () => number,
    private readonly grant: () => Promise<TokenSet>,
  ) {}

  /** A valid access token, renewed first when it expires within a minute (or a tenth of its lifetime). */
  async accessToken(): Promise<string> {
    const current = this.#current;
    if (current && this.now() < current.expiresAt - Math.min(60_000, current.lifetimeMs / 10)) return current.accessToken;
    return (await this.renew()).accessToken;
  }

  /** The server refused `token` as invalid: renew unless another call already did. */
  async replace(token: string): Promise<string> {
    if (this.#current && this.#current.accessToken !== token) return this.#current.accessToken;
    return (await this.renew()).accessToken;
  }

  /**
   * Uses an access token the server answered outside a grant (`POST /api/v1/auth/reauthenticate`) from now on; the
   * refresh token stays as it was.
   */
  adopt(accessToken: string, expiresInSeconds: number, issuedAt: number = this.now()): void {
    const lifetimeMs = expiresInSeconds * 1000;
    this.#current = { accessToken, expiresAt: issuedAt + lifetimeMs, lifetimeMs };
  }

  private renew(): Promise<TokenSet> {
    this.#inFlight ??= this.grant()
      .then((set) => {
        this.#current = set;
        this.renewals += 1;
        return set;
      })
      .finally(() => {
        this.#inFlight = undefined;
      });
    return this.#inFlight;
  }

  toJSON(): Record<string, unknown> {
    return { renewals: this.renewals, accessToken: this.#current ? REDACTED : null, expiresAt: this.#current?.expiresAt ?? null };
  }

  [INSPECT](_depth: number, options: unknown, inspect?: Inspect): string | object {
    return inspectAs('TokenManager', this.toJSON(), options, inspect);
  }
}

function tokenSet(now: number, wire: WireTokens): TokenSet {
  const lifetimeMs = wire.expires_in * 1000;
  return { accessToken: wire.access_token, expiresAt: now + lifetimeMs, lifetimeMs, ...(wire.refresh_token && { refreshToken: wire.refresh_token }) };
}

/**
 * The grant behind each kind of credential. Refresh-token grants keep the latest refresh token in memory and save
 * it to the store before handing out the access token.
 */
export function grantFor(credentials: Exclude<Credentials, ApiKeyCredentials | BearerCredentials>, transport: Transport): () => Promise<TokenSet> {
  if ('agentId' in credentials) return agentGrant(credentials, transport);

  let refreshToken = 'sdkToken' in credentials ? credentials.sdkToken : 'sessionRefreshToken' in credentials ? credentials.sessionRefreshToken : undefined;
  const store = credentials.store;
  // A refresh token the server refused for good, and why: presenting it again would only add reuse alarms to the
  // audit log and answer a vaguer error ("revoked" instead of "reused"), so its refusal is thrown again locally.
  let refused: { token: string; error: unknown } | undefined;
  const rotate = async (): Promise<TokenSet> => {
    const presented = refreshToken!;
    if (refused?.token === presented) throw refused.error;
    const started = transport.now();
    const answer = await (
      'sdkToken' in credentials
        ? transport.send<WireTokens>({
            method: 'POST',
            path: '/oauth/token',
            form: { grant_type: 'refresh_token', refresh_token: presented, client_id: SDK_CLIENT_ID },
          })
        : transport.send<WireTokens>({ method: 'POST', path: '/api/v1/auth/refresh', json: { refresh_token: presented } })
    ).catch((error: unknown) => {
      if (error instanceof RefreshTokenReusedError || error instanceof InvalidGrantError || error instanceof InvalidTokenError) refused = { token: presented, error };
      throw error;
    });
    const set = tokenSet(started, answer.body);
    if (set.refreshToken) {
      refreshToken = set.refreshToken;
      // Saved before anyone uses the new access token: the old refresh token is spent from now on.
      await store?.save(set.refreshToken);
    }
    return set;
  };

  if (!('email' in credentials)) return rotate;

  const login = async (): Promise<TokenSet> => {
    const started = transport.now();
    const body = { email: credentials.email, password: credentials.password };
    const send = (totp_code?: string) =>
      transport.send<WireTokens>({ method: 'POST', path: '/api/v1/public/login', json: totp_code === undefined ? body : { ...body, totp_code } });
    const code = credentials.totpCode;
    const answer = typeof code === 'string' ? await send(code) : await send().catch(async (error: unknown) => {
      // Ask for a code only when the account turns out to need one.
      if (code && error instanceof MfaRequiredError) return send(await code());
      throw error;
    });
    const set = tokenSet(started, answer.body);
    refreshToken = set.refreshToken;
    if (set.refreshToken) await store?.save(set.refreshToken);
    return set;
  };
  return async () => {
    if (refreshToken === undefined) return login();
    try {
      return await rotate();
    } catch (error) {
      // The session ended (expired, logged out): sign in again, unless the refresh token was reused, which is an
      // alarm the caller must see. A TOTP code given as a string was used once already and will not work again.
      if (error instanceof RefreshTokenReusedError || !(error instanceof InvalidTokenError || error instanceof InvalidGrantError)) throw error;
      if (typeof credentials.totpCode === 'string') throw error;
      return login();
    }
  };
}

function agentGrant(credentials: AgentCredentials, transport: Transport): () => Promise<TokenSet> {
  let parsed: { pem: string; keys: Promise<Ed25519KeyPair> } | undefined;
  let audience: Promise<string> | undefined;
  return async () => {
    // A failed lookup (the network, a restarting server) is forgotten, so the next grant asks again.
    audience ??= tokenEndpoint(transport).catch((error: unknown) => {
      audience = undefined;
      throw error;
    });
    const aud = await audience;
    // Read at each grant: after a key rotation the agent swaps `credentials.key` and the next assertion uses it.
    const key = credentials.key;
    if (typeof key === 'string' && parsed?.pem !== key) parsed = { pem: key, keys: Ed25519KeyPair.fromPem(key) };
    const keys = typeof key === 'string' ? parsed!.keys : Promise.resolve(key);
    const started = transport.now();
    const iat = Math.floor(started / 1000);
    const jti = toBase64Url(globalThis.crypto.getRandomValues(new Uint8Array(16)));
    // RFC 7523 §3: iss = sub = the client (the agent), aud = the token endpoint, short exp, single-use jti.
    const assertion = await signJwt(await keys, { iss: credentials.agentId, sub: credentials.agentId, aud, iat, exp: iat + 120, jti });
    const answer = await transport.send<WireTokens>({
      method: 'POST',
      path: '/oauth/token',
      form: { grant_type: 'client_credentials', client_id: credentials.agentId, client_assertion_type: JWT_BEARER, client_assertion: assertion },
    });
    return tokenSet(started, answer.body);
  };
}

/** The token endpoint as the server names it (RFC 8414): the audience its client assertions must carry. */
async function tokenEndpoint(transport: Transport): Promise<string> {
  const { body } = await transport.send<{ token_endpoint?: string }>({ method: 'GET', path: '/.well-known/oauth-authorization-server' });
  return body.token_endpoint ?? `${transport.baseUrl}/oauth/token`;
}

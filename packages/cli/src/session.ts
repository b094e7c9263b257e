import { createRequire } from 'node:module';
import { join } from 'node:path';
import { AIMClient, InvalidTokenError, RefreshTokenReusedError, Transport } from '@aim/sdk';
import { CredentialFile, aimHome, withFileLock } from '@aim/sdk/node';
import { EXIT, fail, type Output } from './output.js';

/**
 * What `aim login` keeps in `$AIM_HOME/session.json` (0600): the server, the session's rotating refresh token and
 * the current access token, so that commands run one after another (or side by side) share one access token.
 */
export interface StoredSession {
  base_url: string;
  email: string;
  refresh_token: string;
  access_token: string;
  access_expires_at: number;
  signed_in_at: number;
}

interface WireSession {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  user?: { email: string; role: string };
}

/**
 * The stored session ended while this command ran: another `aim logout` removed it, an `aim login` to another server
 * replaced it, or the server refused its refresh token (revoked, or reused). bin.ts exits 4, "not signed in", with
 * `code` as the error. `ended`: the session is over for good, so `aim logout` may forget it.
 */
export class SessionEnded extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly ended: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SessionEnded';
  }
}

export const DEFAULT_URL = 'http://127.0.0.1:8080';
/** Renew this long before the access token expires. */
const RENEW_BEFORE_MS = 60_000;

/** How the CLI's sessions are named in `aim sessions list` and on the web UI's Settings page. */
const USER_AGENT = `aim-cli/${(createRequire(import.meta.url)('../package.json') as { version: string }).version}`;

export function sessionFile(home: string = aimHome()): CredentialFile<StoredSession> {
  return new CredentialFile<StoredSession>(join(home, 'session.json'));
}

/** The server to talk to: `--url`, else `$AIM_URL`, else the stored session's, else the local default. */
export function serverUrl(flag: string | undefined, stored?: StoredSession): string {
  return flag || process.env.AIM_URL || stored?.base_url || DEFAULT_URL;
}

const strip = (url: string) => url.replace(/\/+$/, '');

/**
 * Stored credentials go only to the server that issued them: a `--url` or `$AIM_URL` naming another one (staging, a
 * typo, a project's .env) would hand it the session's tokens or an agent's signed assertions, which it could replay
 * at the real server. Exits with the auth code instead.
 */
export function requireIssuer(out: Output, requested: string, issuedBy: string, what: string, relogin: string): void {
  if (strip(requested) !== strip(issuedBy)) {
    fail(out, EXIT.auth, `${what} belongs to ${strip(issuedBy)}, not ${strip(requested)}: unset AIM_URL or --url, or ${relogin}`, 'wrong_server');
  }
}

export function storedSession(baseUrl: string, email: string, wire: WireSession, now = Date.now()): StoredSession {
  return {
    base_url: baseUrl,
    email,
    refresh_token: wire.refresh_token,
    access_token: wire.access_token,
    access_expires_at: now + wire.expires_in * 1000,
    signed_in_at: now,
  };
}

/** Signs in with email and password (and TOTP code) and stores the session. */
export async function login(baseUrl: string, input: { email: string; password: string; totpCode?: string }): Promise<WireSession> {
  const transport = new Transport({ baseUrl, userAgent: USER_AGENT });
  const { body } = await transport.send<WireSession>({
    method: 'POST',
    path: '/api/v1/public/login',
    json: { email: input.email, password: input.password, ...(input.totpCode && { totp_code: input.totpCode }) },
  });
  const file = sessionFile();
  await withLock(file.path, () => file.write(storedSession(transport.baseUrl, input.email, body)));
  return body;
}

/**
 * Confirms the password in the stored session (`POST /api/v1/auth/reauthenticate`) and keeps the access token it
 * answers, which carries the new sign-in time, for the next commands; the refresh token stays, and refreshes carry
 * the new time too. A session replaced meanwhile (another `aim login`) is left as it is.
 */
export async function reauthenticate(out: Output, password: string): Promise<StoredSession> {
  const file = sessionFile();
  const client = await sessionClient(out);
  const before = await file.read();
  const started = Date.now();
  const answer = await client.reauthenticate(password);
  return withLock(file.path, async () => {
    const stored = await file.read();
    // The same login (refreshes keep these): only then is the answered token this session's.
    const same = stored && before && stored.base_url === before.base_url && stored.email === before.email && stored.signed_in_at === before.signed_in_at;
    if (!same) {
      throw new SessionEnded('the stored session changed meanwhile (aim login or logout): run `aim reauth` again', 'not_signed_in', false);
    }
    const next = { ...stored, access_token: answer.access_token, access_expires_at: started + answer.expires_in * 1000 };
    await file.write(next);
    return next;
  });
}

/**
 * A client for the person at the keyboard: `$AIM_API_KEY` when set (CI), else the session `aim login` stored.
 */
export async function personClient(out: Output, url?: string): Promise<AIMClient> {
  const apiKey = process.env.AIM_API_KEY;
  if (apiKey) return new AIMClient({ baseUrl: serverUrl(url), userAgent: USER_AGENT, auth: { apiKey } });
  return sessionClient(out, url);
}

/** A client on the session `aim login` stored, whatever `$AIM_API_KEY` says (logout ends that session). */
export async function sessionClient(out: Output, url?: string): Promise<AIMClient> {
  const file = sessionFile();
  const stored = await file.read();
  if (!stored) fail(out, EXIT.auth, 'not signed in: run `aim login` (or set AIM_API_KEY)', 'not_signed_in');
  const baseUrl = serverUrl(url, stored);
  requireIssuer(out, baseUrl, stored.base_url, 'the stored session', `run \`aim login --url ${baseUrl}\` to sign in there`);
  let current: StoredSession | undefined;
  return new AIMClient({
    baseUrl,
    userAgent: USER_AGENT,
    auth: {
      accessToken: async () => {
        if (!current || Date.now() >= current.access_expires_at - RENEW_BEFORE_MS) current = await freshSession(file, baseUrl);
        return current.access_token;
      },
    },
  });
}

/**
 * The stored session with a usable access token. The refresh token rotates on every use and a rotated one
 * presented again revokes the session, so two `aim` processes must never refresh with the same token: the
 * refresh runs under a lock file, and whoever gets the lock second finds the fresh tokens already stored.
 */
async function freshSession(file: CredentialFile<StoredSession>, baseUrl: string): Promise<StoredSession> {
  let interrupted: NodeJS.Signals | undefined;
  try {
    return await withLock(file.path, async () => {
      const stored = await file.read();
      if (!stored) throw new SessionEnded('signed out meanwhile (another aim command ran aim logout): run `aim login`', 'not_signed_in', true);
      // An `aim login` to another server replaced the file: its tokens must not go to this one.
      if (strip(stored.base_url) !== strip(baseUrl)) {
        throw new SessionEnded(`signed in to ${strip(stored.base_url)} meanwhile, not ${strip(baseUrl)}: run the command again`, 'wrong_server', false);
      }
      if (Date.now() < stored.access_expires_at - RENEW_BEFORE_MS) return stored;
      return uninterrupted(async () => {
        const transport = new Transport({ baseUrl, userAgent: USER_AGENT });
        const { body } = await transport
          .send<WireSession>({ method: 'POST', path: '/api/v1/auth/refresh', json: { refresh_token: stored.refresh_token } })
          .catch((error: unknown) => {
            if (!(error instanceof InvalidTokenError || error instanceof RefreshTokenReusedError)) throw error;
            throw new SessionEnded(`the session was signed out (${error.message}): run \`aim login\``, error.code, true, { cause: error });
          });
        const next = { ...storedSession(stored.base_url, stored.email, body), signed_in_at: stored.signed_in_at };
        await file.write(next).catch((error: unknown) => endUnsaved(file, transport, body.access_token, error));
        return next;
      }, (signal) => (interrupted = signal));
    });
  } finally {
    // The lock is released: the ctrl-c held back now ends the process as it would have.
    if (interrupted) process.kill(process.pid, interrupted);
  }
}

/**
 * The server rotated the refresh token but the new one could not be stored (a full disk, a file size limit). The file
 * holds only the spent token, which the next command would present: reuse, the session revoked as stolen and an
 * alert raised. Instead the session is ended now with its new access token, and the spent file removed if it can be.
 */
async function endUnsaved(file: CredentialFile<StoredSession>, transport: Transport, accessToken: string, error: unknown): Promise<never> {
  await transport.send({ method: 'POST', path: '/api/v1/auth/logout', headers: { authorization: `Bearer ${accessToken}` } }).catch(() => undefined);
  await file.remove().catch(() => undefined);
  const reason = (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
  throw new SessionEnded(
    `could not save the renewed session to ${file.path} (${reason}), so it was signed out rather than left with a spent token: free the space, then run \`aim login\``,
    'session_not_saved',
    true,
    { cause: error },
  );
}

/**
 * Deletes the stored session if it is still `ended` (the same login: server, email, sign-in time; refreshes keep
 * these), under the lock: an `aim login` run meanwhile stored a new session, which stays, and a refresh in flight
 * elsewhere cannot write the ended one back after it is gone.
 */
export async function forgetSession(file: CredentialFile<StoredSession>, ended: StoredSession): Promise<void> {
  await withLock(file.path, async () => {
    const now = await file.read();
    if (now && now.base_url === ended.base_url && now.email === ended.email && now.signed_in_at === ended.signed_in_at) await file.remove();
  });
}

/**
 * Runs `task` with ctrl-c (SIGINT), SIGTERM and SIGHUP held back; `held` hears the first one. Dying between the
 * server's rotation and the file write would keep only the spent refresh token, and the next command would present
 * it: reuse, the session revoked and an alert raised. Held at most the request's timeout plus one file write.
 */
async function uninterrupted<T>(task: () => Promise<T>, held: (signal: NodeJS.Signals) => void): Promise<T> {
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  let first: NodeJS.Signals | undefined;
  const hold = (signal: NodeJS.Signals) => void (first ??= signal);
  for (const signal of signals) process.on(signal, hold);
  try {
    return await task();
  } finally {
    for (const signal of signals) process.off(signal, hold);
    if (first) held(first);
  }
}

/**
 * Runs `task` holding `<path>.lock` (the SDK's exclusive lock file, also used by `secure()`). Its defaults are the
 * CLI's: a holder touches the lock every few seconds and one untouched for 10 s is taken over; a waiter gives up only
 * on a holder still touching it after 30 s, so a crashed command (here or on another host) never fails the next.
 */
export function withLock<T>(path: string, task: () => Promise<T>): Promise<T> {
  return withFileLock(path, task);
}

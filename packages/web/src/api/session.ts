import { ApiError, toApiError } from './errors.js';
import type { SessionAnswer, User } from './types.js';

// The browser session (README "Browser sessions"): the access token lives in this module's memory only; the refresh
// token is an HttpOnly cookie the page never sees. Nothing is written to localStorage or sessionStorage.

type Listener = (user: User | null) => void;

let accessToken: string | null = null;
let expiresAt = 0;
let currentUser: User | null = null;
let renewTimer: ReturnType<typeof setTimeout> | undefined;
let inFlight: Promise<boolean> | null = null;
let signedOutOnPurpose = false;
/** The last renewal could not reach the server (network, 5xx, 429): the session may well be alive. */
let unreachable = false;
const listeners = new Set<Listener>();

const WEB_CLIENT = { 'X-AIM-Client': 'web' };

export function accessTokenValue(): string | null {
  return accessToken;
}

export function sessionUser(): User | null {
  return currentUser;
}

export function onSessionChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The CSRF token the server set in the readable `aim_csrf` cookie (it survives a reload; the access token does not). */
function csrfCookie(): string | null {
  for (const part of document.cookie.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === 'aim_csrf') return decodeURIComponent(rest.join('='));
  }
  return null;
}

export function hasSessionCookie(): boolean {
  return csrfCookie() !== null;
}

function adopt(answer: SessionAnswer): User {
  signedOutOnPurpose = false;
  accessToken = answer.access_token;
  expiresAt = Date.now() + answer.expires_in * 1000;
  currentUser = answer.user;
  scheduleRenewal(answer.expires_in);
  for (const listener of listeners) listener(currentUser);
  return answer.user;
}

/** Ends the session here; listeners hear of it even when no one was signed in yet (a reload whose session is over). */
function clear(): void {
  accessToken = null;
  expiresAt = 0;
  clearTimeout(renewTimer);
  currentUser = null;
  for (const listener of listeners) listener(null);
}

/** Renew a minute before expiry (or halfway through a short-lived token), so requests never meet an expired token. */
function scheduleRenewal(expiresIn: number): void {
  clearTimeout(renewTimer);
  const lead = Math.max(expiresIn - 60, expiresIn / 2);
  renewTimer = setTimeout(() => void renew(), lead * 1000);
}

/** Signs in; an account with 2FA answers `mfa_required` (an ApiError) until `totpCode` is given. */
export async function login(email: string, password: string, totpCode?: string): Promise<User> {
  const response = await fetch('/api/v1/public/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...WEB_CLIENT },
    body: JSON.stringify({ email, password, ...(totpCode ? { totp_code: totpCode } : {}) }),
    credentials: 'same-origin',
  });
  if (!response.ok) throw await toApiError(response);
  return adopt((await response.json()) as SessionAnswer);
}

/**
 * Trades the refresh cookie for a new access token. One renewal at a time, across tabs too (Web Locks): two tabs
 * presenting the same rotating cookie at once would look like token theft and end the session (RFC 9700 §4.14).
 */
export function renew(): Promise<boolean> {
  inFlight ??= withRefreshLock(doRenew).finally(() => {
    inFlight = null;
  });
  return inFlight;
}

async function withRefreshLock(fn: () => Promise<boolean>): Promise<boolean> {
  if (typeof navigator !== 'undefined' && navigator.locks) return navigator.locks.request('aim-session-refresh', fn);
  return fn();
}

async function doRenew(): Promise<boolean> {
  const csrf = csrfCookie();
  if (!csrf) {
    clear();
    return false;
  }
  try {
    const response = await fetch('/api/v1/auth/refresh', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf, ...WEB_CLIENT },
      body: '{}',
      credentials: 'same-origin',
    });
    if (!response.ok) {
      // 5xx or 429: keep what we have and try again soon; anything else means the session is over.
      if (response.status >= 500 || response.status === 429) return keepForNow();
      unreachable = false;
      clear();
      return false;
    }
    unreachable = false;
    adopt((await response.json()) as SessionAnswer);
    return true;
  } catch {
    return keepForNow();
  }
}

/** The server could not answer: nothing says the session is over, so keep it and try again soon. */
function keepForNow(): boolean {
  unreachable = true;
  scheduleRenewal(Math.max(20, (expiresAt - Date.now()) / 1000));
  return accessToken !== null && Date.now() < expiresAt;
}

/** Whether the last renewal failed for want of an answer (network, 5xx, 429) rather than because the session ended. */
export function serverUnreachable(): boolean {
  return unreachable;
}

/**
 * Confirms the password in this session (POST /api/v1/auth/reauthenticate): the access token it answers carries the
 * new sign-in time, and so do the ones the cookie brings from now on. A wrong password throws the API's error.
 */
export async function reauthenticate(password: string): Promise<void> {
  const response = await fetch('/api/v1/auth/reauthenticate', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(accessToken && { Authorization: `Bearer ${accessToken}` }) },
    body: JSON.stringify({ password }),
    credentials: 'same-origin',
  });
  if (!response.ok) throw await toApiError(response);
  adopt((await response.json()) as SessionAnswer);
}

/**
 * Ends the session on the server (refresh token and its access tokens) and clears both cookies. When the server
 * cannot be reached or refuses, this throws and the person stays signed in: the HttpOnly cookie, which only the
 * server can clear, would otherwise sign them back in on the next load while they believe they are out.
 */
export async function logout(): Promise<void> {
  const csrf = csrfCookie();
  const send = (withBearer: boolean) => {
    const headers: Record<string, string> = { ...WEB_CLIENT };
    if (withBearer && accessToken) headers.Authorization = `Bearer ${accessToken}`;
    if (csrf) headers['X-CSRF-Token'] = csrf;
    return fetch('/api/v1/auth/logout', { method: 'POST', headers, credentials: 'same-origin' });
  };
  let response = await send(true);
  // An access token that ran out meanwhile: the cookie alone names the session.
  if (response.status === 401 && accessToken) response = await send(false);
  // 401 again: the server knows no such session any more, so it is over either way.
  if (!response.ok && response.status !== 401) throw await toApiError(response);
  signedOutOnPurpose = true;
  clear();
}

/** True after the person pressed "Sign out" (not when the session expired): the next sign-in starts afresh. */
export function signedOutByChoice(): boolean {
  return signedOutOnPurpose;
}

/** After a long sleep the timer may have fired late: renew at once if the token has run out. */
export function renewIfStale(): void {
  if (currentUser && Date.now() > expiresAt - 30_000) void renew();
}

export function updateSessionUser(user: User): void {
  currentUser = user;
  for (const listener of listeners) listener(currentUser);
}

export { ApiError };

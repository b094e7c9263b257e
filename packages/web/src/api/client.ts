import { toApiError } from './errors.js';
import { confirmIdentity } from './reauth.js';
import { accessTokenValue, renew } from './session.js';

type Query = Record<string, string | number | undefined | null>;

function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** One authenticated request; an expired access token is renewed through the cookie once, then the call retried. */
async function send(method: string, path: string, body?: unknown, query?: Query): Promise<Response> {
  const attempt = () => {
    const headers: Record<string, string> = { Accept: 'application/json' };
    const token = accessTokenValue();
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    return fetch(withQuery(path, query), {
      method,
      headers,
      credentials: 'same-origin',
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  };
  let response = await attempt();
  // Only an expired or revoked token is worth a renewal; a wrong password or TOTP code (invalid_credentials) is not.
  if (response.status === 401 && (await toApiError(response.clone())).code === 'invalid_token' && (await renew())) response = await attempt();
  // The sign-in is too old for this step: once the password is confirmed (a dialog), the same request goes again.
  if (response.status === 403 && (await toApiError(response.clone())).code === 'reauthentication_required' && (await confirmIdentity())) {
    response = await attempt();
  }
  if (!response.ok) throw await toApiError(response);
  return response;
}

export async function request<T>(method: string, path: string, options: { body?: unknown; query?: Query } = {}): Promise<T> {
  const response = await send(method, path, options.body, options.query);
  return (await response.json()) as T;
}

export async function requestBlob(path: string, query?: Query): Promise<Blob> {
  const response = await send('GET', path, undefined, query);
  return response.blob();
}

/**
 * A call for someone who is not signed in (a password reset link): no bearer token, no cookies, no renewal, so a
 * session open in the same browser is neither sent nor touched.
 */
export async function requestPublic<T>(method: string, path: string, body: unknown): Promise<T> {
  const response = await fetch(path, {
    method,
    headers: { Accept: 'application/json', 'Content-Type': 'application/json' },
    credentials: 'omit',
    body: JSON.stringify(body),
  });
  if (!response.ok) throw await toApiError(response);
  return (await response.json()) as T;
}

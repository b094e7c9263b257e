/** Reads Set-Cookie headers the way a browser would need to, for tests of the web UI's session cookies. */
export interface SetCookie {
  name: string;
  value: string;
  /** Attribute names lowercased; flags (HttpOnly, Secure) map to true. */
  attributes: Record<string, string | true>;
}

export function setCookies(headers: Headers): Map<string, SetCookie> {
  const out = new Map<string, SetCookie>();
  for (const line of headers.getSetCookie()) {
    const [pair = '', ...attrs] = line.split(';').map((p) => p.trim());
    const eq = pair.indexOf('=');
    const attributes: Record<string, string | true> = {};
    for (const a of attrs) {
      const i = a.indexOf('=');
      if (i === -1) attributes[a.toLowerCase()] = true;
      else attributes[a.slice(0, i).toLowerCase()] = a.slice(i + 1);
    }
    out.set(pair.slice(0, eq), { name: pair.slice(0, eq), value: decodeURIComponent(pair.slice(eq + 1)), attributes });
  }
  return out;
}

/** A `Cookie` request header from name/value pairs. */
export function cookieHeader(cookies: Record<string, string | undefined>): string {
  return Object.entries(cookies)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${encodeURIComponent(v!)}`)
    .join('; ');
}

// Agent key pairs made in the browser: WebCrypto Ed25519. Only the public key ever leaves the page.

export interface BrowserKeyPair {
  /** Raw 32-byte public key, base64: what `POST /api/v1/agents` accepts as `public_key`. */
  publicKey: string;
  /** PKCS#8 PEM, for the download the person keeps. */
  privateKeyPem: string;
}

function base64(bytes: ArrayBuffer): string {
  let binary = '';
  for (const byte of new Uint8Array(bytes)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function pem(label: string, der: ArrayBuffer): string {
  const body = base64(der).replace(/(.{64})/g, '$1\n').trimEnd();
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

let probe: Promise<boolean> | undefined;

/**
 * Whether this browser makes Ed25519 keys with WebCrypto, found out by making one (asked once per page load).
 * `crypto.subtle` alone proves nothing: browsers before Chrome 113, Firefox 129 and Safari 17 have it without
 * Ed25519, and it is missing altogether outside a secure context (plain HTTP away from localhost).
 */
export function ed25519Supported(): Promise<boolean> {
  probe ??= (async () => {
    try {
      if (typeof crypto === 'undefined' || typeof crypto.subtle === 'undefined') return false;
      await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']);
      return true;
    } catch {
      return false;
    }
  })();
  return probe;
}

export async function generateAgentKeyPair(): Promise<BrowserKeyPair> {
  const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  const [raw, pkcs8] = await Promise.all([crypto.subtle.exportKey('raw', pair.publicKey), crypto.subtle.exportKey('pkcs8', pair.privateKey)]);
  return { publicKey: base64(raw), privateKeyPem: pem('PRIVATE KEY', pkcs8) };
}

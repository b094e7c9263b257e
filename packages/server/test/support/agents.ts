import { createPrivateKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import type { HttpClient, HttpResult } from './http.js';

/** An agent's key pair as the SDK would hold it: raw public key base64, private KeyObject. */
export interface TestKeyPair {
  publicKey: string;
  privateKey: KeyObject;
}

export function newKeyPair(): TestKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return { publicKey: publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('base64'), privateKey };
}

export function keyPairFromPem(pem: string): KeyObject {
  return createPrivateKey(pem);
}

export function signText(privateKey: KeyObject, text: string): string {
  return sign(null, Buffer.from(text, 'utf8'), privateKey).toString('base64');
}

export const nonce = () => randomBytes(16).toString('base64');

/** A signed verify-action body for `agentId`. */
export function signedAction(
  agentId: string,
  privateKey: KeyObject,
  action: string,
  resource: string,
  options: { timestamp?: number; nonce?: string } = {},
) {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const n = options.nonce ?? nonce();
  return { action, resource, timestamp, nonce: n, signature: signText(privateKey, `${agentId}:${action}:${resource}:${timestamp}:${n}`) };
}

export async function registerAgent(
  http: HttpClient,
  token: string,
  options: { name?: string; capabilities?: string[]; type?: string; keyPair?: TestKeyPair } = {},
): Promise<{ id: string; keys: TestKeyPair; response: HttpResult }> {
  const keys = options.keyPair ?? newKeyPair();
  const response = await http.post(
    '/api/v1/agents',
    {
      name: options.name ?? `agent-${randomBytes(4).toString('hex')}`,
      type: options.type ?? 'agent',
      capabilities: options.capabilities ?? ['files:*', 'search'],
      public_key: keys.publicKey,
    },
    { token },
  );
  if (response.status !== 201) throw new Error(`register failed: ${response.status} ${response.text}`);
  return { id: String(response.body.agent_id), keys, response };
}

import { actionMessage as actionText } from '@aim/protocol';

/** The exact bytes agents sign (CONTRACT.md): UTF-8, fields joined by `:`. */
export function actionMessage(agentId: string, action: string, resource: string, timestamp: number, nonce: string): Buffer {
  return Buffer.from(actionText(agentId, action, resource, timestamp, nonce), 'utf8');
}

/** Key rotation is signed by the current key over this message. */
export function rotationMessage(agentId: string, publicKey: string, timestamp: number, nonce: string): Buffer {
  return Buffer.from(`rotate:${agentId}:${publicKey}:${timestamp}:${nonce}`, 'utf8');
}

/** Nonces: 8 to 128 characters of base64/base64url, no separators. */
export const NONCE_PATTERN = '^[A-Za-z0-9+/=_-]{8,128}$';

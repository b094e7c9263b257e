import type { FastifyRequest } from 'fastify';
import type { Principal } from '../http/principal.js';
import type { ApiKeyService } from './service.js';

/**
 * The `X-API-Key` verifier for the HTTP layer. Usage is counted per route pattern (`GET /api/v1/agents/:id`),
 * never per raw URL, so ids in paths cannot blow up the counters.
 */
export function apiKeyVerifier(keys: ApiKeyService) {
  return (key: string, request: FastifyRequest): Promise<Principal> =>
    keys.verify(key, { route: `${request.method} ${request.routeOptions.url ?? '(unrouted)'}`, ip: request.ip });
}

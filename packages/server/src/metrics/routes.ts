import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Metrics } from './metrics.js';

/** Counts every response by route template (never the raw URL: ids would explode the label set). */
export function recordResponse(metrics: Metrics) {
  return (request: FastifyRequest, reply: FastifyReply): void => {
    const route = request.routeOptions.url ?? 'unmatched';
    const auth = request.principal?.method ?? 'public';
    metrics.requests.inc({ method: request.method, route, status: String(reply.statusCode), auth });
    metrics.latency.observe({ method: request.method, route, auth }, reply.elapsedTime / 1000);
  };
}

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Paths that belong to the API and the operations endpoints: never answered with the UI's page. */
const SERVER_PREFIXES = ['/api/', '/oauth/', '/.well-known/', '/health', '/metrics', '/docs'];

export interface WebUi {
  /** Whether the built UI was found (packages/web/dist/index.html). */
  built: boolean;
  /** For the app's not-found handler: answers the UI's page for client-side routes; false when it did not. */
  fallback(request: FastifyRequest, reply: FastifyReply): boolean;
}

/**
 * Serves the built web UI at `/`. Hashed assets are cached for good; `index.html` is revalidated every time so a
 * new build is picked up at once. Unknown page routes (`/agents/…`) get `index.html`, since the UI routes on the
 * client; API paths and missing assets keep their JSON 404. Without a build the server still starts and says so.
 */
export async function registerWebUi(app: FastifyInstance, webDir: string | undefined): Promise<WebUi> {
  const built = webDir !== undefined && existsSync(join(webDir, 'index.html'));
  if (built) {
    await app.register(fastifyStatic, {
      root: webDir,
      prefix: '/',
      wildcard: false,
      index: ['index.html'],
      setHeaders: (reply, path) => {
        void reply.header('cache-control', path.startsWith(join(webDir, 'assets')) ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
  }
  return {
    built,
    fallback(request, reply) {
      if (!isPageRequest(request)) return false;
      if (!built) {
        void reply.status(404).send({
          error: 'not_found',
          error_description: 'the web UI is not built: run `npm run build` (or `npm install`), then restart the server',
        });
        return true;
      }
      void reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8').sendFile('index.html');
      return true;
    },
  };
}

/** A browser navigating to a page: GET or HEAD, asking for HTML, outside the server's own paths, no file extension. */
function isPageRequest(request: FastifyRequest): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  const path = request.url.split('?')[0] ?? '/';
  if (SERVER_PREFIXES.some((prefix) => path === prefix.replace(/\/$/, '') || path.startsWith(prefix))) return false;
  if (/\.[a-z0-9]+$/i.test(path)) return false;
  return path === '/' || (request.headers.accept ?? '').includes('text/html');
}

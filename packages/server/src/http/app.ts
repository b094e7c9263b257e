import cookie from '@fastify/cookie';
import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import helmet, { type HelmetOptions } from 'helmet';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { AimError } from '../core/errors.js';
import { constantTimeEqual } from '../core/hashing.js';
import { authenticate, type CredentialVerifiers, type PrincipalPolicy } from './authenticate.js';
import { toErrorResponse } from './errors.js';
import { rejectNul } from './nul-guard.js';
import type { Route } from './handler.js';
import type { Principal } from './principal.js';
import { closedSchema, validatorCompiler } from './validation.js';
import { registerWebUi } from './web-ui.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** Applies the rate limit for a request once its principal (if any) is known; throws `rate_limited`. */
export type RateLimitHook = (request: FastifyRequest, reply: FastifyReply, principal: Principal | undefined) => Promise<void>;

export interface AppOptions {
  config: Config;
  logger: Logger;
  routes: Route[];
  verifiers: CredentialVerifiers;
  policies?: PrincipalPolicy[];
  rateLimit?: RateLimitHook;
  /** The built web UI, served at `/` when present. */
  webDir?: string;
  /** Prometheus text for GET /metrics; with `token` (AIM_METRICS_TOKEN), only for `Authorization: Bearer <token>`. */
  metrics?: { contentType: string; render(): Promise<string>; token?: string | undefined };
  /** Called after every response: metrics. */
  onResponse?: (request: FastifyRequest, reply: FastifyReply) => void;
}

const FORM = 'application/x-www-form-urlencoded';

/**
 * One access-log line per request, written when it completes, instead of Fastify's two: each line costs a
 * serialization and a write, and at full load the "incoming request" line was a tenth of the CPU.
 * The line is built from fields chosen here (method, path without its query, status, time, client address), none
 * of which can hold a secret, so it skips the logger's redaction pass: at 20–40 µs a line, that pass cost more than
 * the rest of the line. Errors go through the redacting logger as before.
 */
class AccessLog extends LogController {
  readonly #lines: Logger;

  constructor(logger: Logger) {
    super();
    this.#lines = logger.child({}, { redact: [] });
  }

  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return;
    if (error) {
      reply.log.error({ req: request, res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored');
      return;
    }
    const query = request.url.indexOf('?');
    this.#lines.info(
      {
        reqId: request.id,
        req: { method: request.method, url: query === -1 ? request.url : request.url.slice(0, query), remoteAddress: request.ip },
        res: { statusCode: reply.statusCode },
        responseTime: reply.elapsedTime,
      },
      'request completed',
    );
  }
}

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { config } = options;
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    bodyLimit: config.bodyLimit,
    trustProxy: config.trustProxy ? config.trustProxy.split(',').map((s) => s.trim()) : false,
    return503OnClosing: true,
    logController: new AccessLog(options.logger),
    connectionTimeout: 30_000,
    requestTimeout: 30_000,
    ajv: { customOptions: { strict: false } },
    // Fastify's own refusals of malformed URLs answer catalogued JSON like every other error.
    frameworkErrors: (error, request, reply) => {
      request.log.info({ code: error.code }, 'request refused');
      void (reply as FastifyReply).status(400).send({ error: 'invalid_request', error_description: 'the request URL could not be parsed' });
    },
    // Errors Node raises before Fastify sees a request (oversized or malformed headers) still answer catalogued JSON.
    clientErrorHandler: (error, socket) => {
      const tooLarge = (error as { code?: string }).code === 'HPE_HEADER_OVERFLOW';
      const body = JSON.stringify(
        tooLarge
          ? { error: 'headers_too_large', error_description: 'request headers are too large' }
          : { error: 'invalid_request', error_description: 'the request could not be parsed' },
      );
      if (socket.writable) {
        socket.end(
          `HTTP/1.1 ${tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request'}\r\nContent-Type: application/json\r\n` +
            'X-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY\r\nCache-Control: no-store\r\n' +
            `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        );
      } else socket.destroy();
    },
  });
  app.setValidatorCompiler(validatorCompiler);
  // JSON and (where a route allows it) forms only: any other body type is refused, not a string to validate.
  app.removeContentTypeParser(['text/plain']);

  app.addContentTypeParser(FORM, { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseForm(body as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });

  app.setErrorHandler((error, request, reply) => {
    const response = toErrorResponse(error);
    if (response.internal) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: response.body.error }, 'request refused');
    void reply.status(response.status).headers(response.headers).send(response.body);
  });

  app.addHook('preValidation', async (request) => {
    rejectNul({ path: request.params, query: request.query, body: request.body });
  });

  const https = config.publicUrl.startsWith('https://');
  // Cookies are read only by the web UI's session routes (aim_rt, aim_csrf); none is signed by this plugin.
  await app.register(cookie);

  // Security headers on every response, errors and 404s included. The CSP fits the React SPA served from `/`:
  // its own scripts only, inline styles (component kits set style attributes), data: images (QR codes).
  const securityHeaders = headersOf({
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'", 'data:'],
        objectSrc: ["'none'"],
        frameAncestors: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        upgradeInsecureRequests: https ? [] : null,
      },
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    // HSTS only means something over HTTPS; on plain HTTP it would be ignored or, behind a proxy, wrong.
    hsts: https ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    crossOriginEmbedderPolicy: false,
  });
  app.addHook('onRequest', (request, reply, done) => {
    for (const [name, value] of securityHeaders) reply.raw.setHeader(name, value);
    done();
  });
  // RFC 6749 §5.1 and good sense: API answers (tokens, TOTP secrets, recovery codes) are never cached.
  app.addHook('onSend', async (request, reply, payload) => {
    if (!reply.hasHeader('cache-control') && isApiPath(request.url)) void reply.header('cache-control', 'no-store');
    return payload;
  });

  // CORS is closed unless AIM_CORS_ORIGINS lists origins; even then without credentials, so the session cookie
  // never travels cross-origin (other origins use bearer tokens).
  if (config.corsOrigins) {
    await app.register(cors, {
      origin: config.corsOrigins,
      credentials: false,
      // @fastify/cors allows only GET, HEAD and POST by default; the API also has PATCH and DELETE routes.
      methods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', 'x-api-key'],
      exposedHeaders: ['ratelimit', 'ratelimit-policy', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset', 'retry-after'],
    });
  }

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'AIM: Agent Identity Management', version: '0.1.0', description: 'Identity and authentication for AI agents, MCP servers and people.' },
      servers: [{ url: config.publicUrl }],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
          sessionCookie: { type: 'apiKey', in: 'cookie', name: 'aim_rt', description: 'the web UI session; needs X-CSRF-Token' },
        },
      },
    },
  });
  // Swagger UI sets its own CSP on /docs; keep its frame denial as strict as everywhere else, and upgrade requests
  // only when we are served over HTTPS.
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    transformStaticCSP: (csp) => {
      const denied = csp.replace(/frame-ancestors [^;]*/, "frame-ancestors 'none'");
      return https ? denied : denied.replace(/;?\s*upgrade-insecure-requests/, '');
    },
  });

  for (const route of options.routes) registerRoute(app, route, options);

  app.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  if (options.metrics) {
    const metrics = options.metrics;
    app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
      if (metrics.token !== undefined) {
        // A refused token counts against the address's public limit, like a failed credential on any route: uncounted,
        // an address could guess the token without limit (the 101st refusal in a minute is a 429).
        const badCredential = options.rateLimit && (() => options.rateLimit!(request, reply, undefined));
        await checkMetricsToken(request.headers.authorization, metrics.token, badCredential);
      }
      return reply.type(metrics.contentType).send(await metrics.render());
    });
  }

  const webUi = await registerWebUi(app, options.webDir);

  app.setNotFoundHandler((request, reply) => {
    if (webUi.fallback(request, reply)) return reply;
    return reply.status(404).send({ error: 'not_found', error_description: `no route for ${request.method} ${request.url.split('?')[0]}` });
  });

  if (options.onResponse) {
    const hook = options.onResponse;
    app.addHook('onResponse', async (request, reply) => hook(request, reply));
  }
  return app;
}

/**
 * The headers helmet sets, computed once. @fastify/helmet rebuilt helmet's middleware (parsing the CSP) on every
 * request; these headers never vary per request here (no CSP nonces), so they are worked out at start-up.
 */
function headersOf(options: HelmetOptions): Array<[string, string]> {
  const headers = new Map<string, string>();
  const response = {
    setHeader: (name: string, value: string) => void headers.set(name.toLowerCase(), String(value)),
    removeHeader: (name: string) => void headers.delete(name.toLowerCase()),
  };
  let failure: unknown;
  helmet(options)({} as never, response as never, (error?: unknown) => {
    failure = error;
  });
  if (failure) throw failure instanceof Error ? failure : new Error(String(failure));
  return [...headers];
}

/** In the OpenAPI document, on the operations whose access says `recentSignIn`. */
export const RECENT_SIGN_IN_NOTE =
  "With a person's bearer token, this needs a password sign-in within AIM_REAUTH_WINDOW; later it answers 403 reauthentication_required until the password is confirmed at POST /api/v1/auth/reauthenticate.";

function registerRoute(app: FastifyInstance, route: Route, options: AppOptions): void {
  const { schema } = route.handler;
  const access = route.access;
  const isPublic = access.auth === 'public';
  const limited = !(access.auth === 'public' && access.rateLimit === 'none');
  const security: Array<Record<string, string[]>> = isPublic
    ? []
    : [
        ...(access.auth.includes('jwt') || access.auth.includes('oauth') ? [{ bearer: [] }] : []),
        ...(access.auth.includes('api_key') ? [{ apiKey: [] }] : []),
        ...(access.cookie ? [{ sessionCookie: [] }] : []),
      ];
  app.route({
    method: route.method,
    url: route.url,
    schema: {
      summary: schema.summary,
      ...(!isPublic && access.recentSignIn && { description: RECENT_SIGN_IN_NOTE }),
      tags: schema.tags,
      ...(schema.body && { body: schema.consumes?.includes(FORM) ? schema.body : closedSchema(schema.body) }),
      ...(schema.params && { params: schema.params }),
      ...(schema.querystring && { querystring: closedSchema(schema.querystring) }),
      response: schema.response,
      ...(schema.consumes && { consumes: schema.consumes }),
      security,
    },
    // Authentication and rate limiting come first, before the body is read: an anonymous caller learns nothing
    // about a route's schema and cannot make the server parse large bodies.
    onRequest: async (request, reply) => {
      const rateLimit = limited ? options.rateLimit : undefined;
      if (!isPublic) {
        // A bad credential counts against the client address's public limit: without a principal there is no class
        // of its own to count against, and uncounted it would let an address test credentials without limit.
        const badCredential = rateLimit && (() => rateLimit(request, reply, undefined));
        request.principal = await authenticate(request, access, options.verifiers, options.policies ?? [], badCredential);
      }
      if (rateLimit) await rateLimit(request, reply, request.principal);
      const type = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
      if (type === FORM && !schema.consumes?.includes(FORM)) {
        throw new AimError('unsupported_media_type', 'send the body as application/json');
      }
      // The OAuth endpoints answer in RFC 6749 §5.2 terms, which have no 415: any other body is a malformed request.
      if (type !== FORM && schema.consumes?.includes(FORM)) {
        throw new AimError('invalid_request', 'send the body as application/x-www-form-urlencoded');
      }
    },
    ...(schema.optionalBody && {
      preValidation: async (request: FastifyRequest) => {
        if (request.body === undefined) request.body = {};
      },
    }),
    handler: async (request, reply) => {
      const userAgent = request.headers['user-agent'];
      return route.handler.handle({
        body: request.body,
        params: request.params,
        query: request.query,
        principal: request.principal,
        ip: request.ip,
        userAgent: typeof userAgent === 'string' ? userAgent.slice(0, 512) : null,
        request,
        reply,
      });
    },
  });
}

/**
 * AIM_METRICS_TOKEN: a scraper's static bearer token (Prometheus `authorization: {credentials: …}`), compared in
 * constant time. Anything else is 401 `invalid_token` with its RFC 6750 §3 challenge.
 */
async function checkMetricsToken(authorization: string | undefined, token: string, onBadCredential?: () => Promise<void>): Promise<void> {
  // RFC 9110 §11.1: the scheme is case-insensitive; the token is compared exactly.
  const presented = authorization !== undefined && /^bearer /i.test(authorization) ? authorization.slice('Bearer '.length) : undefined;
  if (presented === undefined || !constantTimeEqual(presented, token)) {
    await onBadCredential?.();
    throw new AimError('invalid_token', 'GET /metrics needs Authorization: Bearer <AIM_METRICS_TOKEN>', {
      headers: { 'www-authenticate': `Bearer realm="aim-metrics"${presented === undefined ? '' : ', error="invalid_token"'}` },
    });
  }
}

function isApiPath(url: string): boolean {
  return url.startsWith('/api/') || url.startsWith('/oauth/');
}

/**
 * RFC 6749 §3.2: form bodies; a parameter sent twice is an error, not a choice, and one sent without a value is
 * treated as omitted.
 */
function parseForm(body: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  const seen = new Set<string>();
  for (const [key, value] of new URLSearchParams(body)) {
    if (seen.has(key)) throw new AimError('invalid_request', `parameter "${key}" appears more than once`);
    seen.add(key);
    if (value !== '') out[key] = value;
  }
  return out;
}

import type { Scope } from '@aim/protocol';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Static, TSchema } from 'typebox';
import type { AuthMethod, Principal } from './principal.js';

export interface HandlerSchema {
  summary: string;
  tags: string[];
  body?: TSchema;
  params?: TSchema;
  querystring?: TSchema;
  /** Every success status with its schema; response schemas also strip fields they do not list. */
  response: Record<number, TSchema>;
  /** Request content types other than JSON this route parses (the OAuth endpoints take forms). */
  consumes?: string[];
  /**
   * A request with no body at all is validated as `{}` (a route that took no body and gained optional fields keeps
   * its old callers). A body that is there, a literal `null` included, is validated as sent.
   */
  optionalBody?: true;
}

type StaticOr<T, Fallback> = T extends TSchema ? Static<T> : Fallback;

export interface HandlerContext<S extends HandlerSchema, P extends Principal | undefined> {
  body: StaticOr<S['body'], undefined>;
  params: StaticOr<S['params'], Record<string, never>>;
  query: StaticOr<S['querystring'], Record<string, never>>;
  principal: P;
  /** The client address, from X-Forwarded-For only when the peer is a trusted proxy. */
  ip: string;
  userAgent: string | null;
  request: FastifyRequest;
  reply: FastifyReply;
}

/** A thin HTTP handler: translate the request to one service call and back. */
export interface Handler<S extends HandlerSchema = HandlerSchema, P extends Principal | undefined = Principal | undefined> {
  schema: S;
  handle(ctx: HandlerContext<S, P>): Promise<unknown>;
}

/** A handler for routes that need a signed-in principal. */
export function authed<S extends HandlerSchema>(schema: S, handle: (ctx: HandlerContext<S, Principal>) => Promise<unknown>): Handler<S, Principal> {
  return { schema, handle };
}

/** A handler for public routes (no principal). */
export function open<S extends HandlerSchema>(schema: S, handle: (ctx: HandlerContext<S, undefined>) => Promise<unknown>): Handler<S, undefined> {
  return { schema, handle };
}

export type Access =
  | {
      auth: 'public';
      /** `none`: not rate limited (health probes, which load balancers call often from one address). */
      rateLimit?: 'none';
    }
  | {
      auth: readonly AuthMethod[];
      /** The scope a principal needs, or a list of which it needs any one; users get scopes from their role. */
      scope?: Scope | readonly Scope[];
      /** Also accepts the web UI's session cookie (`aim_rt` with its CSRF token) when no credential header is sent. */
      cookie?: true;
      /** A person's token needs a password sign-in within AIM_REAUTH_WINDOW (403 `reauthentication_required`). */
      recentSignIn?: true;
    };

export interface Route {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  url: string;
  access: Access;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  handler: Handler<HandlerSchema, any>;
}

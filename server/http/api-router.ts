import { OpenAPIRegistry, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { Router, type Request, type RequestHandler, type Response } from 'express';
import { z, ZodObject, type ZodType } from 'zod';
import { ERROR_STATUS, type ErrorName } from '../../shared/errors.js';
import type { ApiKeyScope } from '../../shared/schemas/api-keys.js';
import { errorEnvelopeSchema } from '../../shared/schemas/common.js';
import { curlExample, REQUEST_EXAMPLES } from '../openapi/request-examples.js';
import type { ApiKeyPrincipal } from '../api-keys/api-keys.service.js';
import { AppError } from '../errors/app-error.js';
import { SESSION_COOKIE } from '../console/session-cookie.js';
import { queryParser } from './validate.js';
import { parse } from '../errors/parse.js';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type Out<S> = S extends ZodType ? z.output<S> : undefined;

/** One route: how it is mounted, checked and documented, all from the same declaration. */
export interface RouteSpec<B, Q, P> {
  method: Method;
  /** Express path under `/api/v1`, e.g. `/chatbots/:id` (from the server root when `root` is set). */
  path: string;
  /** Mounts the path from the server root instead of under `/api/v1` (compatibility dialects' literal paths). */
  root?: boolean;
  tag: string;
  summary: string;
  /** The scope the key needs, `any` for any key or console session, or `public` for unauthenticated routes. */
  scope: ApiKeyScope | 'any' | 'public';
  /** How a public route checks its caller, for the document (by default: the bot's allowed origins). */
  publicCheck?: string;
  /**
   * `signed`: a public route whose every request the handler verifies by signature (platform deliveries) is
   * not limited per IP, since platforms deliver from a few shared addresses.
   */
  publicLimit?: 'per-ip' | 'signed';
  body?: B;
  /** Other request content types the route accepts besides JSON (e.g. a multipart upload), for the document. */
  otherBodies?: Record<string, SchemaObject>;
  query?: Q;
  params?: P;
  /** Documented success body (already enveloped) and its status. */
  response?: ZodType;
  status?: number;
  /** Content type of a non-JSON success body (SSE, CSV). */
  produces?: string;
  /** Errors this route answers besides the ones every route can. */
  errors?: ErrorName[];
  /** Middleware that runs before body parsing (e.g. multipart uploads). */
  before?: RequestHandler[];
  /** The documented error body, when the route's dialect has its own (default: the envelope). */
  errorBody?: ZodType;
}

export interface RouteContext<B, Q, P> {
  body: Out<B>;
  query: Out<Q>;
  params: Out<P>;
  req: Request;
  res: Response;
  /** The caller; throws on public routes, which have none. */
  principal: ApiKeyPrincipal;
}

/** What authenticated routes run before their handler: key lookup, per-key limits, quota-free checks. */
export interface RouteGuards {
  authenticate: RequestHandler;
  keyRateLimit: RequestHandler;
  publicRateLimit: RequestHandler;
  /** Replays a POST sent again with the same `Idempotency-Key`. */
  idempotency: RequestHandler;
}

/** A request body schema as the OpenAPI generator takes it: a zod schema or a plain schema object. */
type SchemaObject = Extract<
  NonNullable<RouteConfig['request']>['body'],
  { content: unknown }
>['content'][string] extends infer M
  ? M extends { schema?: infer S }
    ? S
    : never
  : never;

const idempotencyHeaders = z.object({
  'Idempotency-Key': z
    .string()
    .min(1)
    .max(255)
    .regex(/^[\x21-\x7e]+$/)
    .optional()
    .describe(
      'Makes a retry safe (Stripe semantics): the same key with the same request within 24 hours answers the first response again, with `Idempotent-Replayed: true`, without running twice; the same key with another request is 422 `IdempotencyError`; while the first is still running, 409. Not allowed with `stream: true`.',
    ),
});

const COMMON_ERRORS: ErrorName[] = ['BadRequestError', 'RateLimitError', 'InternalError'];
const AUTH_ERRORS: ErrorName[] = ['UnauthorizedError', 'ForbiddenError'];

export function hasScope(principal: ApiKeyPrincipal, scope: ApiKeyScope): boolean {
  return principal.scopes.includes('admin') || principal.scopes.includes(scope);
}

/** Builds the `/api/v1` router and its OpenAPI registry together, so the document lists every mounted route. */
export class ApiRouter {
  /** Routes under `/api/v1`, one router per first path segment (`/chatbots/...`), in the order they were mounted. */
  private readonly groups = new Map<string, Router>();
  /**
   * The `/api/v1` routes: a request goes straight to the routes that share its first path segment (the only
   * ones that can match it, since every path starts with a literal one) instead of being tried against every
   * route mounted before its own. Segments compare case-insensitively, as Express' routing does.
   */
  readonly router: RequestHandler = (req, res, next) => {
    const url = req.url;
    let end = 1;
    while (end < url.length && url[end] !== '/' && url[end] !== '?') end += 1;
    const group = this.groups.get(url.slice(1, end).toLowerCase());
    if (!group) return next();
    group(req, res, next);
  };
  /** Routes whose paths start at the server root; mounted with the same middleware as `/api/v1`. */
  readonly rootRouter = Router();
  readonly registry = new OpenAPIRegistry();
  /** Every mounted route; `documentedPath` is how the OpenAPI document spells it. */
  readonly mounted: Array<{ method: Method; path: string; documentedPath: string }> = [];

  constructor(private readonly guards: RouteGuards) {
    this.registry.registerComponent('securitySchemes', 'bearerAuth', {
      type: 'http',
      scheme: 'bearer',
      description: 'An API key: `Authorization: Bearer sk_live_...`',
    });
    this.registry.registerComponent('securitySchemes', 'consoleSession', {
      type: 'apiKey',
      in: 'cookie',
      name: SESSION_COOKIE,
      description:
        'The owner console session cookie (from `POST /api/v1/console/sessions`), with the scopes of the key it was opened with; every change made with it also needs the `X-CSRF-Token` header',
    });
  }

  route<
    B extends ZodType | undefined = undefined,
    Q extends ZodType | undefined = undefined,
    P extends ZodType | undefined = undefined,
  >(spec: RouteSpec<B, Q, P>, handler: (ctx: RouteContext<B, Q, P>) => Promise<void> | void): void {
    const chain: RequestHandler[] =
      spec.scope === 'public'
        ? spec.publicLimit === 'signed'
          ? []
          : [this.guards.publicRateLimit]
        : [
            this.guards.authenticate,
            this.guards.keyRateLimit,
            ...(spec.scope === 'any' ? [] : [requireScope(spec.scope)]),
          ];
    chain.push(...(spec.before ?? []));
    if (spec.method === 'post') chain.push(this.guards.idempotency);
    const parseQuery = queryParser(spec.query as ZodType | undefined);
    // Not an async function: a handler that answers synchronously costs no promise (a returned one still has
    // its rejection handed to the error handler, as is anything thrown while parsing).
    chain.push((req, res) => {
      const principal = res.locals.principal as ApiKeyPrincipal | undefined;
      const ctx = {
        body: (spec.body ? parse(spec.body, bodyOf(spec.method, req), 'body') : undefined) as Out<B>,
        query: parseQuery(
          (spec.query ? perPageAlias(spec.query, req.query) : req.query) as Record<string, unknown>,
        ) as Out<Q>,
        params: (spec.params ? parse(spec.params, req.params, 'params') : undefined) as Out<P>,
        req,
        res,
        get principal(): ApiKeyPrincipal {
          if (!principal) throw new AppError('UnauthorizedError');
          return principal;
        },
      };
      return handler(ctx);
    });
    (spec.root ? this.rootRouter : this.groupOf(spec.path))[spec.method](spec.path, ...chain);
    this.mounted.push({ method: spec.method, path: spec.path, documentedPath: documentedPath(spec) });
    this.document(spec);
  }

  private groupOf(path: string): Router {
    const segment = /^\/([A-Za-z0-9_.~-]+)(?:\/|$)/.exec(path)?.[1]?.toLowerCase();
    if (!segment)
      throw new Error(`API route paths start with a literal segment (a letter, digit, "-", "_", "." or "~"): ${path}`);
    let group = this.groups.get(segment);
    if (!group) {
      group = Router();
      this.groups.set(segment, group);
    }
    return group;
  }

  /**
   * For a request no route answered: 405 with `Allow` when its path exists with other methods
   * (mounted last, at the server root, so it covers `/api/v1` and the compatibility paths), else passes on to the 404.
   */
  methodNotAllowed(): RequestHandler {
    const patternOf = (path: string) =>
      new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\\\{[A-Za-z0-9_]+\\\}/g, '[^/]+')}/?$`);
    const routes = this.mounted.map((route) => ({ method: route.method, pattern: patternOf(route.documentedPath) }));
    return (req, _res, next) => {
      const path = `${req.baseUrl}${req.path}`;
      const allowed = new Set(
        routes.filter((route) => route.pattern.test(path)).map((route) => route.method.toUpperCase()),
      );
      if (allowed.size === 0) return next();
      if (allowed.has('GET')) allowed.add('HEAD');
      const allow = [...allowed, 'OPTIONS'].join(', ');
      next(
        new AppError('MethodNotAllowedError', {
          message: `${req.method} is not allowed on ${req.baseUrl}${req.path}; use ${allow}`,
          details: { allowed: allow.split(', ') },
          headers: { Allow: allow },
        }),
      );
    };
  }

  private document<B, Q, P>(spec: RouteSpec<B, Q, P>): void {
    const errors = new Set<ErrorName>([
      ...COMMON_ERRORS,
      ...(spec.scope === 'public' ? [] : AUTH_ERRORS),
      ...(spec.errors ?? []),
    ]);
    if (spec.body || spec.query || spec.params) errors.add('ValidationError');
    if (spec.body) errors.add('PayloadTooLargeError');
    if (spec.method === 'post') {
      errors.add('IdempotencyError');
      errors.add('ConflictError');
    }
    const responses: RouteConfig['responses'] = {
      [spec.status ?? 200]: spec.produces
        ? { description: 'Success', content: { [spec.produces]: { schema: { type: 'string' } } } }
        : spec.response
          ? { description: 'Success', content: { 'application/json': { schema: spec.response } } }
          : { description: 'Success (no body)' },
    };
    for (const name of errors) {
      const status = ERROR_STATUS[name];
      const existing = responses[status];
      const description = existing && 'description' in existing ? `${existing.description}, ${name}` : name;
      responses[status] = {
        description,
        content: { 'application/json': { schema: spec.errorBody ?? errorEnvelopeSchema } },
      };
    }
    const body = spec.body as ZodType | undefined;
    const example = REQUEST_EXAMPLES[`${spec.method} ${spec.path}`];
    const curl = curlExample(spec.method, documentedPath(spec), spec.scope === 'public', body ? example : undefined);
    this.registry.registerPath({
      method: spec.method,
      path: documentedPath(spec),
      tags: [spec.tag],
      summary: spec.summary,
      description: `${
        spec.scope === 'public'
          ? (spec.publicCheck ?? "Public (no API key); checked against the bot's allowed origins.")
          : spec.scope === 'any'
            ? 'Requires an API key (any scope) or a console session.'
            : `Requires scope \`${spec.scope}\`.`
      }\n\nExample:\n\n\`\`\`sh\n${curl}\n\`\`\``,
      'x-codeSamples': [{ lang: 'curl', label: 'curl', source: curl }],
      security: spec.scope === 'public' ? [] : [{ bearerAuth: [] }, { consoleSession: [] }],
      request: {
        ...(body
          ? {
              body: {
                content: {
                  'application/json': { schema: body, ...(example === undefined ? {} : { example }) },
                  ...bodyContents(spec.otherBodies),
                },
                required: true,
              },
            }
          : {}),
        ...(spec.query ? { query: spec.query as unknown as ZodObject } : {}),
        ...(spec.params ? { params: spec.params as unknown as ZodObject } : {}),
        ...(spec.method === 'post' ? { headers: idempotencyHeaders } : {}),
      },
      responses,
    });
  }
}

function documentedPath(spec: { path: string; root?: boolean }): string {
  return `${spec.root ? '' : '/api/v1'}${spec.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`;
}

/**
 * The request's body for parsing. A PUT or PATCH without one is refused: a missing body on a PUT
 * would otherwise reset every field to its default, and on a PATCH it is almost always a client bug.
 */
function bodyOf(method: string, req: Request): unknown {
  if (req.body !== undefined) return req.body;
  if (method === 'put' || method === 'patch') {
    throw new AppError('ValidationError', {
      message: 'A JSON body is required: send the fields with Content-Type: application/json',
      details: { fields: [{ path: 'body', message: 'required' }] },
    });
  }
  return {};
}

/**
 * `per_page` is accepted wherever `perPage` is (clients of the `page`/`per_page` dialect);
 * both with different values is refused rather than guessed.
 */
function perPageAlias(schema: ZodType, query: Request['query']): Request['query'] {
  if (!('per_page' in query) || !(schema instanceof ZodObject) || !('perPage' in schema.shape)) return query;
  const { per_page: alias, ...rest } = query;
  const size = Number(alias);
  if (typeof alias !== 'string' || !Number.isInteger(size) || size < 1 || size > 100) {
    throw new AppError('ValidationError', {
      message: 'Invalid query: per_page: must be a whole number from 1 to 100',
      details: { fields: [{ path: 'per_page', message: 'must be a whole number from 1 to 100' }] },
    });
  }
  if ('perPage' in rest && rest.perPage !== alias) {
    throw new AppError('ValidationError', {
      message: 'Invalid query: send perPage or per_page, not both with different values',
      details: { fields: [{ path: 'per_page', message: 'conflicts with perPage' }] },
    });
  }
  return { ...rest, perPage: alias };
}

function bodyContents(others: Record<string, SchemaObject> | undefined) {
  return Object.fromEntries(Object.entries(others ?? {}).map(([type, schema]) => [type, { schema }]));
}

function requireScope(scope: ApiKeyScope): RequestHandler {
  return (_req, res, next) => {
    const principal = res.locals.principal as ApiKeyPrincipal;
    if (hasScope(principal, scope)) return next();
    next(
      new AppError('ForbiddenError', {
        message: `This API key lacks the "${scope}" scope`,
        details: { requiredScope: scope, keyScopes: principal.scopes },
      }),
    );
  };
}

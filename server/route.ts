/**
 * Routes as data: each route states its method, path, who may call it, the zod schemas of its input
 * and its responses, and a thin handler. The app mounts them with the same middleware chain, and the
 * OpenAPI document is built from the same list, so what is served and what is documented agree.
 */
import type { Express, Request, RequestHandler, Response } from 'express';
import { z } from 'zod';
import { authenticate, type Principal, type Role, principalOf } from './auth.js';
import type { AppDeps } from './deps.js';
import { validate } from './validation.js';
import { keepAuditTarget } from './audit.js';

/** A documented response: JSON with a registered schema, or another media type. */
export interface ResponseSpec {
  description: string;
  /** A schema registered in openapi/schemas.ts (its JSON Schema becomes a component). */
  schema?: z.ZodType;
  /** Default `application/json`. */
  contentType?: string;
}

type AnyObject = z.ZodObject;

/** What a handler gets: the validated input, the caller, and the app's dependencies. */
export interface HandlerContext<P extends AnyObject, Q extends AnyObject, B extends z.ZodType> {
  params: z.output<P>;
  query: z.output<Q>;
  body: z.output<B>;
  /** The caller; on a public route `anonymous` with the lowest role, so nothing is shown by mistake. */
  principal: Principal;
  deps: Required<Pick<AppDeps, 'now'>> & AppDeps;
  req: Request;
  res: Response;
}

export interface RouteSpec<
  P extends AnyObject = AnyObject,
  Q extends AnyObject = AnyObject,
  B extends z.ZodType = z.ZodType,
> {
  method: 'get' | 'post' | 'delete';
  /** Express path (`/api/v1/findings/:id`). */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  /** The least role that may call it, or `public` for no token at all. */
  access: Role | 'public';
  /** Whether the network allowlist applies (default true; false only for liveness and readiness). */
  network?: boolean;
  /** Whether calls are recorded in the audit trail (default: every route that needs a token). */
  audit?: boolean;
  /** Whether the per-token rate limit applies (default: every route that needs a token). */
  rateLimited?: boolean;
  params?: P;
  /** Default: no query parameters at all (any given is refused as unknown). */
  query?: Q;
  body?: B;
  /** A missing body counts as `{}` (e.g. `POST /scans` to scan every source). */
  bodyOptional?: boolean;
  /** Successful responses by status; the error responses are added from the route's traits. */
  responses: Record<number, ResponseSpec>;
  /** Error statuses the handler itself may answer besides 400 and 404 (e.g. 409), for the document. */
  errors?: number[];
  handler(ctx: HandlerContext<P, Q, B>): Promise<void> | void;
}

/** Any route, as the app and the OpenAPI builder hold them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyRoute = RouteSpec<any, any, any>;

/** Identity with inference: lets a route file write one object and get its handler's types checked. */
export function defineRoute<P extends AnyObject, Q extends AnyObject, B extends z.ZodType>(
  spec: RouteSpec<P, Q, B>,
): AnyRoute {
  return spec as AnyRoute;
}

const NO_QUERY = z.object({}).strict();
const NO_PARAMS = z.object({}).strict();

/** Middleware the app provides for the traits of a route. */
export interface RouteMiddleware {
  network: RequestHandler;
  verify: (token: string) => Principal | null;
  /** Per client address, for requests without a valid token. */
  authFailureLimit: RequestHandler;
  /** Per token. */
  rateLimit: RequestHandler;
  audit: RequestHandler;
  /** Parses a JSON body (415 for another media type); only routes that take a body use it. */
  json: RequestHandler;
}

/** The chain of one route: network, auth, rate limit, audit, then validation and the handler. */
function chain(
  route: AnyRoute,
  mw: RouteMiddleware,
  deps: HandlerContext<AnyObject, AnyObject, z.ZodType>['deps'],
) {
  const handlers: RequestHandler[] = [keepAuditTarget];
  if (route.network !== false) handlers.push(mw.network);
  if (route.access !== 'public') {
    handlers.push(mw.authFailureLimit, authenticate(mw.verify, route.access));
    if (route.rateLimited !== false) handlers.push(mw.rateLimit);
    if (route.audit !== false) handlers.push(mw.audit);
  }
  if (route.body) handlers.push(mw.json);
  handlers.push(async (req, res) => {
    const params = validate(route.params ?? NO_PARAMS, req.params, 'params');
    const query = validate(route.query ?? NO_QUERY, req.query, 'query');
    const rawBody: unknown = req.body === undefined && route.bodyOptional ? {} : req.body;
    const body: unknown = route.body ? validate(route.body, rawBody, 'body') : undefined;
    const principal =
      route.access === 'public' ? { name: 'anonymous', role: 'viewer' as const } : principalOf(res);
    await route.handler({ params, query, body, principal, deps, req, res });
  });
  return handlers;
}

/** Mounts every route on the app, in order. */
export function mountRoutes(
  app: Express,
  routes: readonly AnyRoute[],
  mw: RouteMiddleware,
  deps: HandlerContext<AnyObject, AnyObject, z.ZodType>['deps'],
): void {
  for (const route of routes) app[route.method](route.path, ...chain(route, mw, deps));
}

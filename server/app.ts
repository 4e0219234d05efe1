/**
 * The Express app of the API. `createApp` wires routes and middleware around the dependencies it is
 * given and does not listen: the caller (the CLI, or a test on port 0) decides where.
 */
import express, { type Express, type RequestHandler } from 'express';
import { auditRefusals, auditTrail, routeOf } from './audit.js';
import { authenticate, createTokenVerifier } from './auth.js';
import { BOARD_PATH, boardRouter } from './board.js';
import type { AppDeps } from './deps.js';
import { AppError, errorHandler, sendError } from './errors.js';
import { httpLogger } from './logging.js';
import { createMetrics, type ApiMetrics } from './metrics.js';
import { createNetworkCheck } from './network.js';
import { buildOpenApi, errorResponse, type OpenApiDocument } from './openapi/document.js';
import { DOCS_ASSETS_PATH, docsAssets, docsRoutes } from './openapi/docs.js';
import { authFailureRateLimit, tokenRateLimit } from './rate-limit.js';
import { mountRoutes, type AnyRoute, type RouteMiddleware } from './route.js';
import { auditRoutes } from './routes/audit.routes.js';
import { findingRoutes } from './routes/findings.routes.js';
import { opsRoutes } from './routes/ops.routes.js';
import { reportRoutes } from './routes/reports.routes.js';
import { scanRoutes } from './routes/scans.routes.js';
import { sourceRoutes } from './routes/sources.routes.js';
import { suppressionRoutes } from './routes/suppressions.routes.js';

/** Largest JSON body accepted: status changes and suppression rules are small. */
const BODY_LIMIT = '64kb';

/** Headers for every answer: the API serves personal data, which nobody should cache or frame. */
const securityHeaders: RequestHandler = (_req, res, next) => {
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  next();
};

function observe(metrics: ApiMetrics): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.observeRequest(req.method, routeOf(req), res.statusCode, seconds);
    });
    next();
  };
}

/** JSON bodies only, parsed after authentication so strangers cannot make the server parse. */
function jsonBody(): RequestHandler {
  const parse = express.json({
    limit: BODY_LIMIT,
    strict: true,
    type: ['application/json', 'application/*+json'],
  });
  return (req, res, next) => {
    const length = req.headers['content-length'];
    const hasBody =
      req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
    if (hasBody && !req.is(['application/json', 'application/*+json'])) {
      throw new AppError(415, 'the request body must be JSON (Content-Type: application/json)');
    }
    parse(req, res, (error?: unknown) => {
      // body-parser's own errors carry a `type` (errors.ts maps them); a body that does not decompress
      // as its Content-Encoding says comes as a bare 400, which would otherwise read as a bad path.
      const bare = error !== undefined && (error as { type?: unknown }).type === undefined;
      if (bare && (error as { status?: unknown }).status === 400) {
        next(AppError.badRequest(['body: could not be decoded as its Content-Encoding says']));
      } else next(error);
    });
  };
}

/** The routes of the API, in mount order; the docs routes read the document built from them. */
function allRoutes(deps: AppDeps, metrics: ApiMetrics, document: () => OpenApiDocument): AnyRoute[] {
  return [
    ...opsRoutes({ store: deps.store, queue: deps.queue, redis: deps.redis, metrics }),
    ...docsRoutes(document),
    ...sourceRoutes,
    ...scanRoutes,
    ...findingRoutes,
    ...suppressionRoutes,
    ...reportRoutes,
    ...auditRoutes,
  ];
}

/** The Bull Board mount, documented by hand: it is a router, not a route of the list. */
const BOARD_DOC = {
  path: BOARD_PATH,
  method: 'get' as const,
  operation: {
    operationId: 'queueBoard',
    summary: 'Bull Board: the scan queue in a browser',
    description:
      'Roles: admin. Accepts the token as bearer or as the password of HTTP Basic. Read-only: jobs are ' +
      'neither added, retried nor removed through it (405).',
    tags: ['operations'],
    security: [{ bearer: [] }, { basic: [] }],
    'x-required-role': 'admin',
    responses: {
      200: { description: 'The board (HTML)', content: { 'text/html': { schema: { type: 'string' } } } },
      401: errorResponse(401, 'No valid token'),
      403: errorResponse(403, 'Not admin, or network not allowed'),
      429: errorResponse(429),
      503: errorResponse(503, 'The audit trail cannot be written'),
    },
  },
};

/**
 * Builds the app. Every route is listed in the OpenAPI document at /api/v1/openapi.json (also in
 * `app.locals.openapi`); see the route files for who may call what. The caller owns `deps` (closing
 * the store and queue is theirs) and decides where to listen.
 */
export function createApp(deps: AppDeps): Express {
  const { config, store, logger } = deps;
  const api = config.api;
  const metrics = deps.metrics ?? createMetrics({ store, queue: deps.queue, schedules: deps.schedules });
  const full = { ...deps, metrics, now: deps.now ?? (() => new Date()) };

  const app = express();
  app.disable('x-powered-by');
  // Only these proxies' X-Forwarded-For is believed; otherwise the client address is the TCP peer.
  app.set('trust proxy', api.trustedProxies.length > 0 ? api.trustedProxies : false);
  app.set('query parser', 'simple');
  app.locals.metrics = metrics;

  app.use(httpLogger(logger));
  app.use(observe(metrics));
  app.use(securityHeaders);
  app.use(auditRefusals(store, logger));

  const allowed = createNetworkCheck(api.allowedNetworks);
  const network: RequestHandler = (req, _res, next) => {
    if (!allowed(req.ip ?? req.socket.remoteAddress))
      throw new AppError(403, 'requests from this network are not allowed');
    next();
  };
  const verify = createTokenVerifier(api.tokens);
  const mw: RouteMiddleware = {
    network,
    verify,
    authFailureLimit: authFailureRateLimit(api.rateLimitPerMinute, verify),
    rateLimit: tokenRateLimit(api.rateLimitPerMinute),
    audit: auditTrail(store, logger),
    json: jsonBody(),
  };

  // The docs routes serve the document built from the list they are part of.
  const routes = allRoutes(full, metrics, () => document);
  const document = buildOpenApi(routes, [BOARD_DOC]);
  app.locals.openapi = document;
  mountRoutes(app, routes, mw, full);

  app.use(DOCS_ASSETS_PATH, network, docsAssets());
  app.use(
    BOARD_PATH,
    network,
    authFailureRateLimit(api.rateLimitPerMinute, verify, { basic: true }),
    authenticate(verify, 'admin', { basic: true }),
    // Its own budget per token: the board's page, assets and polling neither eat nor share the API's.
    tokenRateLimit(api.rateLimitPerMinute),
    // Job data and failure messages can hold object keys: reading them is logged like evidence.
    mw.audit,
    boardRouter(deps.queue),
  );

  app.use((req, res) => sendError(req, res, AppError.notFound('route')));
  app.use(errorHandler(logger));
  return app;
}

/**
 * Request logging with pino-http on the process logger (core/log.ts, which redacts authorization
 * headers and keys). Each request gets an id, echoed as X-Request-Id. Lines name the route pattern,
 * never the URL: a query string or path can hold an object key, and with it a plate.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request } from 'express';
import { pinoHttp } from 'pino-http';
import type { Logger } from '../core/log.js';
import { routeOf } from './audit.js';
import { describe } from './errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Paths polled by probes and Prometheus: answering them is not news. */
const QUIET = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * The request id: the caller's X-Request-Id when it is a UUID (so a proxy's id carries through;
 * anything else could smuggle text into logs), otherwise a new one.
 */
export function requestId(req: IncomingMessage, res: ServerResponse): string {
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && UUID.test(incoming) ? incoming.toLowerCase() : randomUUID();
  res.setHeader('X-Request-Id', id);
  return id;
}

/** The pino-http middleware for the app. */
export function httpLogger(logger: Logger) {
  return pinoHttp({
    logger,
    genReqId: requestId,
    wrapSerializers: false,
    serializers: {
      req: (req: IncomingMessage) => ({ id: req.id, method: req.method }),
      res: (res: ServerResponse) => ({ statusCode: res.statusCode }),
      err: (err: unknown) => (err instanceof Error ? describe(err) : err),
    },
    customSuccessObject: (req, _res, value: object) => ({ ...value, route: routeOf(req as Request) }),
    customErrorObject: (req, _res, _err, value: object) => ({ ...value, route: routeOf(req as Request) }),
    customLogLevel: (_req, res, err) =>
      err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
    autoLogging: { ignore: (req) => QUIET.has((req.url ?? '').split('?')[0] ?? '') },
  });
}

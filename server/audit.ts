/**
 * The audit trail: who consulted or changed what through the API, from where, and with what result,
 * as the AP asks of anyone holding personal data. A granted request is recorded before it is served
 * and refused (503) when that fails; requests refused at the door (401, 403, 429) are recorded too.
 */
import { performance } from 'node:perf_hooks';
import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from '../core/log.js';
import type { AccessInput, Store } from '../core/store/store.js';
import { maybePrincipal } from './auth.js';
import { AppError, describe } from './errors.js';
import { maskQuery, maskText } from './mask.js';

/** The route pattern that served a request; never the raw path, which may hold a key or a plate. */
export function routeOf(req: Request): string {
  const route = (req as Request & { route?: { path?: unknown } }).route;
  if (route && typeof route.path === 'string') return `${req.baseUrl}${route.path}`;
  return req.baseUrl !== '' ? `${req.baseUrl}/*` : '(unmatched)';
}

/** What a request asked for: its route pattern and its path parameters, masked. */
interface Target {
  route: string;
  params: Record<string, string>;
}

function targetOf(req: Request): Target {
  const params = Object.fromEntries(
    Object.entries((req.params ?? {}) as Record<string, string>).map(([k, v]) => [k, maskText(String(v))]),
  );
  return { route: routeOf(req), params };
}

const AUDIT_ID = Symbol('auditId');
const TARGET = Symbol('auditTarget');
type Audited = Response & { [AUDIT_ID]?: string; [TARGET]?: Target };

function accessOf(req: Request, res: Response): AccessInput {
  const principal = maybePrincipal(res);
  const { route, params } = (res as Audited)[TARGET] ?? targetOf(req);
  return {
    requestId: String(req.id),
    actor: principal?.name ?? null,
    role: principal?.role ?? null,
    method: req.method,
    route,
    params,
    query: maskQuery(req.query),
    client: req.ip ?? req.socket.remoteAddress ?? 'unknown',
  };
}

/**
 * First in a route's chain: keeps what the request asked for, so that a refusal recorded once it is
 * answered (when the router has already reset `req.params`) still names the finding or scan asked for.
 */
export const keepAuditTarget: RequestHandler = (req, res, next) => {
  (res as Audited)[TARGET] = targetOf(req);
  next();
};

/**
 * Route middleware for granted requests: writes the entry, then completes it with the status when
 * the response ends (499 when the client went away first).
 */
export function auditTrail(store: Store, logger: Logger): RequestHandler {
  return async (req, res, next) => {
    const started = performance.now();
    let id: string;
    try {
      id = await store.recordAccess(accessOf(req, res));
    } catch (error) {
      logger.error({ reqId: req.id, err: describe(error) }, 'audit trail not writable: request refused');
      throw new AppError(503, 'the audit trail cannot be written, so the request is refused');
    }
    (res as Audited)[AUDIT_ID] = id;
    const complete = () => {
      res.off('finish', complete);
      res.off('close', complete);
      const status = res.writableFinished ? res.statusCode : 499;
      store.completeAccess(id, status, Math.round(performance.now() - started)).catch((error: unknown) => {
        logger.error({ reqId: req.id, err: describe(error) }, 'audit entry not completed');
      });
    };
    res.on('finish', complete);
    res.on('close', complete);
    next();
  };
}

/** Statuses of requests refused before they reach a route's audit middleware. */
const REFUSALS = new Set([401, 403, 429]);

/**
 * App-level middleware recording refused requests (bad or missing token, wrong role, network not
 * allowed, rate limited) once they are answered; best effort, as nothing was served.
 */
export function auditRefusals(store: Store, logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    res.once('finish', () => {
      if (!REFUSALS.has(res.statusCode) || (res as Audited)[AUDIT_ID] !== undefined) return;
      const duration = Math.round(performance.now() - started);
      store
        .recordAccess(accessOf(req, res))
        .then((id) => store.completeAccess(id, res.statusCode, duration))
        .catch((error: unknown) =>
          logger.error({ reqId: req.id, err: describe(error) }, 'refusal not audited'),
        );
    });
    next();
  };
}

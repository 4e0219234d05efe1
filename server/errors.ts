/**
 * The API's one error type and its one error middleware: every failure becomes a JSON answer with a
 * stable `error` code, and nothing a client sends can produce a 500.
 */
import type { ErrorRequestHandler, Request, Response } from 'express';
import type { Logger } from '../core/log.js';
import { FindingStatusConflictError } from '../core/store/api-errors.js';
import { InvalidCursorError } from '../core/store/errors.js';
import { maskPlates } from './mask.js';

/** The `error` codes the API answers with, by HTTP status. */
export const ERROR_CODES = {
  400: 'bad-request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not-found',
  409: 'conflict',
  413: 'payload-too-large',
  415: 'unsupported-media-type',
  429: 'too-many-requests',
  500: 'internal',
  503: 'unavailable',
} as const;

export type ErrorStatus = keyof typeof ERROR_CODES;

/** The body of every error answer. */
export interface ErrorBody {
  error: (typeof ERROR_CODES)[ErrorStatus];
  message: string;
  /** For 400: one line per problem, each starting with where it is (`query.limit: ...`). */
  problems?: string[];
  /** For 409 on a status change: the finding's current status and where it may go. */
  current?: string;
  allowed?: string[];
  requestId?: string;
}

/** An error meant for the client: its status, its message, and the problems or details to show. */
export class AppError extends Error {
  override readonly name = 'AppError';

  constructor(
    readonly status: ErrorStatus,
    message: string,
    readonly details: Pick<ErrorBody, 'problems' | 'current' | 'allowed'> = {},
    /** Extra response headers (e.g. WWW-Authenticate). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  static badRequest(problems: string[]): AppError {
    return new AppError(400, 'the request is not valid', { problems });
  }

  static notFound(what: string): AppError {
    return new AppError(404, `${what} not found`);
  }

  static conflict(message: string, details: Pick<ErrorBody, 'current' | 'allowed'> = {}): AppError {
    return new AppError(409, message, details);
  }
}

/** Errors of body-parser and the router carry a `type` or `status`; these are the client's fault. */
interface HttpishError {
  type?: string;
  status?: number;
  statusCode?: number;
  expose?: boolean;
}

/** Maps anything thrown to an AppError, or null when it is our fault (a 500). */
export function toAppError(error: unknown): AppError | null {
  if (error instanceof AppError) return error;
  if (error instanceof InvalidCursorError) return AppError.badRequest([`query.cursor: ${error.message}`]);
  if (error instanceof FindingStatusConflictError) {
    return AppError.conflict(`the finding is ${error.current} now; it changed meanwhile`, {
      current: error.current,
    });
  }
  const e = (error ?? {}) as HttpishError;
  switch (e.type) {
    case 'entity.parse.failed':
      return AppError.badRequest(['body: malformed JSON']);
    case 'entity.too.large':
      return new AppError(413, 'the request body is too large');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new AppError(415, 'the request body must be UTF-8 JSON');
    case 'request.aborted':
      return AppError.badRequest(['body: the request was aborted']);
    case 'request.size.invalid':
      return AppError.badRequest(['body: its length does not match Content-Length']);
  }
  // Backstop: a PostgreSQL data exception (SQLSTATE class 22: a value out of range or malformed)
  // can only come from a value the client sent that validation let through.
  const sqlState = (error as { code?: unknown } | null)?.code;
  if (typeof sqlState === 'string' && /^22[0-9A-Z]{3}$/.test(sqlState)) {
    return AppError.badRequest(['request: a value is out of range']);
  }
  const status = e.status ?? e.statusCode;
  // The router answers a malformed %-escape in the path with a 400 URIError.
  if (status === 400 || error instanceof URIError) return AppError.badRequest(['path: malformed']);
  if (status !== undefined && status >= 400 && status < 500 && status in ERROR_CODES) {
    return new AppError(status as ErrorStatus, 'the request is not valid');
  }
  return null;
}

/** Sends an AppError as JSON (with the request id, so support can find the log line). */
export function sendError(req: Request, res: Response, error: AppError): void {
  // A handler may have set the headers of what it meant to send (an export's CSV type and download
  // name) before it failed: the error goes out as JSON, never saved as a findings file.
  res.removeHeader('Content-Type');
  res.removeHeader('Content-Disposition');
  for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
  const body: ErrorBody = {
    error: ERROR_CODES[error.status],
    message: error.message,
    ...error.details,
    requestId: String(req.id),
  };
  res.status(error.status).json(body);
}

/**
 * The error middleware: AppErrors and client mistakes as their status, anything else as a 500
 * without details (logged with a masked message). A failure after the headers went out (a streamed
 * export) can only cut the response short.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    const known = toAppError(error);
    if (res.headersSent) {
      logger.error({ reqId: req.id, err: describe(error) }, 'response failed after it started');
      res.destroy();
      return;
    }
    if (known) {
      sendError(req, res, known);
      return;
    }
    // pino-http logs the failed request with this error, through a serializer that masks it.
    res.err = error instanceof Error ? error : new Error(String(error));
    sendError(req, res, new AppError(500, 'internal error'));
  };
}

/** An error as logs may hold it: database and driver messages can quote values a client sent. */
export function describe(error: unknown): { type: string; message: string; stack?: string } {
  const e = error instanceof Error ? error : new Error(String(error));
  return { type: e.name, message: maskPlates(e.message), stack: e.stack ? maskPlates(e.stack) : undefined };
}

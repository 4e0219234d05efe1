/**
 * Rate limits: per token for authenticated requests, and per client address for requests without a
 * valid token (so guessing tokens is as slow as using one). Counters live in this process's memory:
 * with several API processes each counts on its own.
 */
import type { RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import { principalOf, tokenFromHeader, type Principal } from './auth.js';
import { AppError } from './errors.js';

const WINDOW_MS = 60_000;

function tooMany(): AppError {
  return new AppError(429, 'too many requests; try again in a minute');
}

/** At most `perMinute` requests per token name per minute; route middleware after authentication. */
export function tokenRateLimit(perMinute: number): RequestHandler {
  return rateLimit({
    windowMs: WINDOW_MS,
    limit: perMinute,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    keyGenerator: (_req, res) => `token:${principalOf(res).name}`,
    handler: (_req, _res, next) => next(tooMany()),
    // The key is the token, not the address, so the proxy and address checks do not apply.
    validate: { xForwardedForHeader: false, trustProxy: false, ip: false },
  });
}

/**
 * At most `perMinute` requests per client address per minute that end in 401; route middleware
 * before authentication. Requests with a valid token are neither counted nor refused, so one broken
 * script behind the municipality's shared address does not lock its colleagues out.
 */
export function authFailureRateLimit(
  perMinute: number,
  verify: (token: string) => Principal | null,
  opts: { basic?: boolean } = {},
): RequestHandler {
  return rateLimit({
    skip: (req) => {
      const token = tokenFromHeader(req.headers.authorization, opts.basic);
      return typeof token === 'string' && verify(token) !== null;
    },
    windowMs: WINDOW_MS,
    limit: perMinute,
    standardHeaders: false,
    legacyHeaders: false,
    keyGenerator: (req) => `addr:${ipKeyGenerator(req.ip ?? req.socket.remoteAddress ?? 'unknown')}`,
    requestWasSuccessful: (_req, res) => res.statusCode !== 401,
    skipSuccessfulRequests: true,
    handler: (_req, _res, next) => next(tooMany()),
    validate: { xForwardedForHeader: false, trustProxy: false },
  });
}

/**
 * Bearer tokens with roles. Tokens live in the config only as SHA-256 hashes; a presented token is
 * hashed and compared in constant time with every configured hash, so neither the timing nor the
 * order of the list tells an attacker anything.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import { AppError } from './errors.js';

export const ROLES = ['admin', 'officer', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/** admin > officer > viewer: a role may do everything the roles below it may. */
const RANK: Record<Role, number> = { viewer: 1, officer: 2, admin: 3 };

/** Whether `role` is `least` or above it. */
export function hasRole(role: Role, least: Role): boolean {
  return RANK[role] >= RANK[least];
}

/** Who a request acts as: the token's name (what the audit trail records) and its role. */
export interface Principal {
  name: string;
  role: Role;
}

export interface TokenEntry {
  name: string;
  role: Role;
  /** Lower-case hex SHA-256 of the token. */
  sha256: string;
}

/** Longer tokens are refused unhashed: nobody's real token is that long, and hashing it costs. */
const MAX_TOKEN_LENGTH = 1024;

/** The principal a token stands for, or null. Checks every entry whatever matches, in constant time each. */
export function createTokenVerifier(tokens: readonly TokenEntry[]): (token: string) => Principal | null {
  const entries = tokens.map((t) => ({ name: t.name, role: t.role, hash: Buffer.from(t.sha256, 'hex') }));
  return (token) => {
    if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) return null;
    const hash = createHash('sha256').update(token, 'utf8').digest();
    let found: Principal | null = null;
    for (const entry of entries) {
      // No early exit: the time taken must not depend on where in the list the token is.
      if (entry.hash.length === hash.length && timingSafeEqual(entry.hash, hash) && found === null) {
        found = { name: entry.name, role: entry.role };
      }
    }
    return found;
  };
}

/**
 * The token in an Authorization header: `Bearer <token>`, or with `basic` also HTTP Basic with the
 * token as password (browsers can send that to Bull Board; they cannot send a bearer token). Undefined
 * when there is no header, null when it is not one of those forms.
 */
export function tokenFromHeader(header: string | undefined, basic = false): string | null | undefined {
  if (header === undefined || header === '') return undefined;
  const bearer = /^Bearer +([\x21-\x7e]+) *$/i.exec(header);
  if (bearer) return bearer[1]!;
  const basicMatch = basic ? /^Basic +([A-Za-z0-9+/=]+) *$/i.exec(header) : null;
  if (basicMatch) {
    const decoded = Buffer.from(basicMatch[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 ? decoded.slice(colon + 1) : null;
  }
  return null;
}

/** The principal that `authenticate` stored on the response; throws when there is none. */
export function principalOf(res: Response): Principal {
  const principal = maybePrincipal(res);
  if (!principal) throw new Error('no principal: the route was mounted without authentication');
  return principal;
}

/** The principal of an authenticated request, if it got that far. */
export function maybePrincipal(res: Response): Principal | undefined {
  return (res.locals as { principal?: Principal }).principal;
}

/**
 * Middleware admitting requests whose token has at least `least`'s role: 401 without a valid token
 * (with a WWW-Authenticate challenge), 403 with a token of a lower role.
 */
export function authenticate(
  verify: (token: string) => Principal | null,
  least: Role,
  opts: { basic?: boolean } = {},
): RequestHandler {
  const challenge = opts.basic ? 'Basic realm="anpr-audit", charset="UTF-8"' : 'Bearer realm="anpr-audit"';
  return (req, res, next) => {
    const token = tokenFromHeader(req.headers.authorization, opts.basic);
    if (token === undefined) {
      throw new AppError(401, 'a bearer token is required', {}, { 'WWW-Authenticate': challenge });
    }
    const principal = token === null ? null : verify(token);
    if (!principal) {
      throw new AppError(
        401,
        'the token is not valid',
        {},
        { 'WWW-Authenticate': `${challenge}${opts.basic ? '' : ', error="invalid_token"'}` },
      );
    }
    res.locals.principal = principal;
    if (!hasRole(principal.role, least)) {
      throw new AppError(
        403,
        `this needs the ${least} role; token "${principal.name}" has ${principal.role}`,
      );
    }
    next();
  };
}

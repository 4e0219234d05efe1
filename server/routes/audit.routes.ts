/** The audit trail, for admins: who consulted or changed what through the API. */
import { z } from 'zod';
import { AppError } from '../errors.js';
import { AuditPageSchema } from '../openapi/schemas.js';
import { defineRoute, type AnyRoute } from '../route.js';
import { param } from '../validation.js';

export const auditRoutes: AnyRoute[] = [
  defineRoute({
    method: 'get',
    path: '/api/v1/audit-log',
    operationId: 'listAuditLog',
    summary: 'Audit entries, newest first, with filters and cursor pagination',
    description:
      'Every API request that passed authentication, and every one refused for its token, role, ' +
      'network or rate. Queries are stored with plate-like values masked. Reading this is audited too.',
    tag: 'audit',
    access: 'admin',
    query: z
      .object({
        actor: param.text(200).optional(),
        role: z.enum(['admin', 'officer', 'viewer']).optional(),
        method: z.enum(['GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'HEAD', 'OPTIONS']).optional(),
        route: param.text(200).optional(),
        status: param.int(100, 599).optional(),
        since: param.instant().optional(),
        until: param.instant().optional(),
        limit: param.int(1, 500).optional(),
        cursor: param.text(100).optional(),
      })
      .strict(),
    responses: { 200: { description: 'One page of entries', schema: AuditPageSchema } },
    async handler({ query, deps, res }) {
      if (query.since && query.until && query.since.getTime() > query.until.getTime()) {
        throw AppError.badRequest(['query.until: must not be before since']);
      }
      res.json(await deps.store.listAccess({ ...query, limit: query.limit ?? 100 }));
    },
  }),
];

/**
 * Suppression rules: saved filters of accepted situations with a reason and an expiry. Admins write
 * them; officers read them (findings name the rule that suppressed them); reports show them.
 */
import { z } from 'zod';
import { allRules } from '../../core/rules/registry.js';
import { AppError } from '../errors.js';
import { SuppressionListSchema, SuppressionSchema } from '../openapi/schemas.js';
import { defineRoute, type AnyRoute } from '../route.js';
import { instantField, param } from '../validation.js';
import { suppressionView } from '../views.js';
import { MAX_ACCEPTANCE_DAYS as MAX_DAYS } from '../workflow.js';

const idParams = z.object({ id: z.string().min(1).max(200) }).strict();
const ruleIds = allRules.map((rule) => rule.meta.id) as [string, ...string[]];

const createBody = z
  .object({
    rule: z.enum(ruleIds).optional(),
    source: z.string().min(1).max(63).optional(),
    bucket: z.string().min(1).max(63).optional(),
    keyPrefix: z.string().min(1).max(1024).optional(),
    reason: z.string().trim().min(1).max(4000),
    expiresAt: instantField(),
  })
  .strict();

export const suppressionRoutes: AnyRoute[] = [
  defineRoute({
    method: 'get',
    path: '/api/v1/suppressions',
    operationId: 'listSuppressions',
    summary: 'Suppression rules, newest first',
    tag: 'suppressions',
    access: 'officer',
    query: z.object({ active: param.bool().optional(), limit: param.int(1, 500).optional() }).strict(),
    responses: { 200: { description: 'The suppression rules', schema: SuppressionListSchema } },
    async handler({ query, principal, deps, res }) {
      const items = await deps.store.listSuppressions({ active: query.active, limit: query.limit ?? 100 });
      res.json({ items: items.map((s) => suppressionView(s, principal)) });
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/suppressions/:id',
    operationId: 'getSuppression',
    summary: 'One suppression rule and how many findings it marks',
    tag: 'suppressions',
    access: 'officer',
    params: idParams,
    responses: { 200: { description: 'The suppression rule', schema: SuppressionSchema } },
    async handler({ params, principal, deps, res }) {
      const suppression = await deps.store.getSuppression(params.id);
      if (!suppression) throw AppError.notFound('suppression');
      res.json(suppressionView(suppression, principal));
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/suppressions',
    operationId: 'createSuppression',
    summary: 'Save a suppression rule: matching findings are marked, not hidden, from their next sighting',
    description:
      `At least one of rule, source, bucket and keyPrefix; a reason; an expiry in the future, at most ` +
      `${MAX_DAYS} days ahead.`,
    tag: 'suppressions',
    access: 'admin',
    body: createBody,
    responses: { 201: { description: 'The saved rule', schema: SuppressionSchema } },
    async handler({ body, principal, deps, res }) {
      const problems: string[] = [];
      if (!body.rule && !body.source && !body.bucket && !body.keyPrefix) {
        problems.push('body: needs at least one of rule, source, bucket and keyPrefix');
      }
      if (body.source !== undefined && !deps.config.sources.some((s) => s.id === body.source)) {
        problems.push('body.source: unknown source');
      }
      const now = deps.now().getTime();
      if (body.expiresAt.getTime() <= now) problems.push('body.expiresAt: must be in the future');
      if (body.expiresAt.getTime() > now + MAX_DAYS * 86_400_000) {
        problems.push(`body.expiresAt: must be at most ${MAX_DAYS} days ahead`);
      }
      if (problems.length > 0) throw AppError.badRequest(problems);
      const created = await deps.store.createSuppression({ ...body, createdBy: principal.name });
      res.status(201).location(`/api/v1/suppressions/${created.id}`).json(created);
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/api/v1/suppressions/:id',
    operationId: 'revokeSuppression',
    summary: 'Revoke a suppression rule; findings it marked are unmarked at their next sighting',
    tag: 'suppressions',
    access: 'admin',
    params: idParams,
    responses: { 200: { description: 'The revoked rule', schema: SuppressionSchema } },
    async handler({ params, principal, deps, res }) {
      const revoked = await deps.store.revokeSuppression(params.id, principal.name, deps.now());
      if (!revoked) throw AppError.notFound('suppression');
      res.json(revoked);
    },
  }),
];

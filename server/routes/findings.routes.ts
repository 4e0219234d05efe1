/** Findings: the list (every role, masked for viewers), one with its evidence and history, and status changes. */
import { z } from 'zod';
import { FINDING_STATUSES, SEVERITIES } from '../../core/model.js';
import { allRules } from '../../core/rules/registry.js';
import type { FindingFilter } from '../../core/store/store.js';
import { AppError } from '../errors.js';
import { FindingDetailSchema, FindingPageSchema, HistorySchema } from '../openapi/schemas.js';
import { defineRoute, type AnyRoute } from '../route.js';
import { instantField, param } from '../validation.js';
import { findingView, seesEvidence } from '../views.js';
import { allowedFrom, canMove, MAX_ACCEPTANCE_DAYS, TRANSITIONS, type OfficerStatus } from '../workflow.js';

/** Most findings one page holds through the API. */
export const MAX_PAGE = 500;

const ruleIds = allRules.map((rule) => rule.meta.id) as [string, ...string[]];

/** The finding filters shared by the list and the exports. */
export const findingFilterShape = {
  rule: param.list(ruleIds).optional(),
  severity: param.list(SEVERITIES).optional(),
  source: param.texts(63).optional(),
  bucket: param.texts(63).optional(),
  status: param.list(FINDING_STATUSES).optional(),
  since: param.instant().optional(),
  until: param.instant().optional(),
  /** Text in the key, case-insensitive. */
  q: param.text(200).optional(),
  scanId: param.text(200).optional(),
  delta: z.enum(['new', 'still-open', 'remediated']).optional(),
  suppressed: param.bool().optional(),
  sort: z.enum(['severity', 'firstSeen', 'lastSeen', 'ageHours']).optional(),
  order: z.enum(['asc', 'desc']).optional(),
};

/** Checks across filter fields that zod's per-field schemas cannot see. */
export function checkFilter(query: { delta?: string; scanId?: string; since?: Date; until?: Date }): void {
  const problems: string[] = [];
  if (query.delta !== undefined && query.scanId === undefined) problems.push('query.delta: needs scanId');
  if (query.since && query.until && query.since.getTime() > query.until.getTime()) {
    problems.push('query.until: must not be before since');
  }
  if (problems.length > 0) throw AppError.badRequest(problems);
}

/** The store filter from validated query fields. */
export function toFilter(query: z.output<z.ZodObject<typeof findingFilterShape>>): FindingFilter {
  const { q, ...rest } = query;
  return { ...rest, keyContains: q };
}

const listQuery = z
  .object({
    ...findingFilterShape,
    limit: param.int(1, MAX_PAGE).optional(),
    cursor: param.text(1000).optional(),
  })
  .strict();

const idParams = z.object({ id: z.string().min(1).max(200) }).strict();

const statusBody = z
  .object({
    status: z.enum(['open', 'acknowledged', 'resolved', 'false-positive', 'accepted-risk']),
    comment: z.string().trim().min(1).max(4000),
    /** Until when an accepted risk is accepted; required for accepted-risk, refused otherwise. */
    until: instantField().optional(),
  })
  .strict();

export const findingRoutes: AnyRoute[] = [
  defineRoute({
    method: 'get',
    path: '/api/v1/findings',
    operationId: 'listFindings',
    summary: 'List findings with filters, sorting and cursor pagination',
    description:
      'Every role. For a viewer, plate-like parts of keys and reasons are masked, evidence is left out, ' +
      'and searching keys (q) is refused: a search would tell whether a plate is there.',
    tag: 'findings',
    access: 'viewer',
    query: listQuery,
    responses: { 200: { description: 'One page of findings', schema: FindingPageSchema } },
    async handler({ query, principal, deps, res }) {
      checkFilter(query);
      if (query.q !== undefined && !seesEvidence(principal)) {
        throw new AppError(403, 'searching keys needs the officer role');
      }
      const { limit, cursor, ...filters } = query;
      const page = await deps.store.listFindings({ ...toFilter(filters), limit: limit ?? 100, cursor });
      res.json({ items: page.items.map((f) => findingView(f, principal)), nextCursor: page.nextCursor });
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/findings/:id',
    operationId: 'getFinding',
    summary: 'One finding with its evidence, its history and the statuses it may move to',
    tag: 'findings',
    access: 'officer',
    params: idParams,
    responses: { 200: { description: 'The finding', schema: FindingDetailSchema } },
    async handler({ params, principal, deps, res }) {
      const finding = await deps.store.getFinding(params.id);
      if (!finding) throw AppError.notFound('finding');
      const history = await deps.store.findingHistory(params.id);
      res.json({
        finding: findingView(finding, principal),
        history,
        allowedTransitions: [...TRANSITIONS[finding.status]],
      });
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/findings/:id/history',
    operationId: 'getFindingHistory',
    summary: "The officers' decisions on a finding, oldest first",
    tag: 'findings',
    access: 'officer',
    params: idParams,
    responses: { 200: { description: 'The history', schema: HistorySchema } },
    async handler({ params, deps, res }) {
      if (!(await deps.store.getFinding(params.id))) throw AppError.notFound('finding');
      res.json({ items: await deps.store.findingHistory(params.id) });
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/findings/:id/status',
    operationId: 'setFindingStatus',
    errors: [409],
    summary: 'Acknowledge, resolve, mark false positive, accept the risk until a date, or reopen',
    description:
      'open -> acknowledged -> resolved | false-positive | accepted-risk; any decision (and remediated) ' +
      '-> open. A comment is required; accepted-risk requires `until`, a future instant at most ' +
      `${MAX_ACCEPTANCE_DAYS} days ahead: a scan that sees the finding after it reopens the finding, ` +
      'with a history entry. Recorded with the token name and the time. 409 when the step is not ' +
      'allowed from the current status.',
    tag: 'findings',
    access: 'officer',
    params: idParams,
    body: statusBody,
    responses: { 200: { description: 'The finding after the change', schema: FindingDetailSchema } },
    async handler({ params, body, principal, deps, res }) {
      const now = deps.now();
      if (body.status === 'accepted-risk' && !body.until) {
        throw AppError.badRequest(['body.until: is required for accepted-risk']);
      }
      if (body.status !== 'accepted-risk' && body.until) {
        throw AppError.badRequest(['body.until: only accepted-risk takes an until date']);
      }
      if (body.until && body.until.getTime() <= now.getTime()) {
        throw AppError.badRequest(['body.until: must be in the future']);
      }
      if (body.until && body.until.getTime() > now.getTime() + MAX_ACCEPTANCE_DAYS * 86_400_000) {
        throw AppError.badRequest([`body.until: must be at most ${MAX_ACCEPTANCE_DAYS} days ahead`]);
      }
      const finding = await deps.store.getFinding(params.id);
      if (!finding) throw AppError.notFound('finding');
      const to: OfficerStatus = body.status;
      if (!canMove(finding.status, to)) {
        throw AppError.conflict(`a finding that is ${finding.status} cannot become ${to}`, {
          current: finding.status,
          allowed: [...TRANSITIONS[finding.status]],
        });
      }
      // expectFrom re-checks under the row lock: another officer may have decided in between.
      const updated = await deps.store.setFindingStatus(params.id, {
        status: to,
        actor: principal.name,
        comment: body.comment,
        until: body.until ?? null,
        at: now,
        expectFrom: allowedFrom(to),
      });
      if (!updated) throw AppError.notFound('finding');
      res.json({
        finding: findingView(updated, principal),
        history: await deps.store.findingHistory(params.id),
        allowedTransitions: [...TRANSITIONS[updated.status]],
      });
    },
  }),
];

/**
 * Reports: the compliance summary per source and rule for a period (JSON, CSV; every role), the
 * findings export for the vendor (CSV, NDJSON; officers), and the delta of one scan (every role).
 */
import { z } from 'zod';
import { AppError } from '../errors.js';
import { ComplianceReportSchema, ScanDeltaSchema } from '../openapi/schemas.js';
import { buildComplianceReport, complianceCsv, streamFindings } from '../reports.js';
import { defineRoute, type AnyRoute, type HandlerContext } from '../route.js';
import { param } from '../validation.js';
import { checkFilter, findingFilterShape, toFilter } from './findings.routes.js';

const DAY_MS = 86_400_000;

const complianceQuery = z
  .object({
    from: param.instant().optional(),
    to: param.instant().optional(),
    source: param.texts(63).optional(),
  })
  .strict();

type ComplianceCtx = HandlerContext<typeof complianceQuery, typeof complianceQuery, z.ZodType>;

/** The report for the asked period: the last 30 days up to now by default. */
async function compliance({ query, deps, principal }: Pick<ComplianceCtx, 'query' | 'deps' | 'principal'>) {
  const now = deps.now();
  const to = query.to ?? now;
  const from = query.from ?? new Date(to.getTime() - 30 * DAY_MS);
  if (from.getTime() > to.getTime()) throw AppError.badRequest(['query.to: must not be before from']);
  const period = { from, to, sources: query.source };
  const data = await deps.store.complianceSummary(period);
  return buildComplianceReport(data, deps.config, period, now, principal);
}

const exportQuery = z.object(findingFilterShape).strict();

/** A file name for an export: the kind and the time, nothing from the query. */
function fileName(kind: string, now: Date, ext: string): string {
  return `${kind}-${now.toISOString().replace(/[:.]/g, '-')}.${ext}`;
}

function exportRoute(format: 'csv' | 'ndjson'): AnyRoute {
  const contentType = format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8';
  return defineRoute({
    method: 'get',
    path: `/api/v1/reports/findings.${format}`,
    operationId: format === 'csv' ? 'exportFindingsCsv' : 'exportFindingsNdjson',
    summary: `Every finding matching the filters as ${format.toUpperCase()}, streamed`,
    description: 'The filters of GET /api/v1/findings, without paging. For handing evidence to the vendor.',
    tag: 'reports',
    access: 'officer',
    query: exportQuery,
    responses: { 200: { description: `The findings as ${format}`, contentType: contentType.split(';')[0] } },
    async handler({ query, principal, deps, res }) {
      checkFilter(query);
      const filter = toFilter(query);
      res.status(200);
      res.setHeader('Content-Type', contentType);
      res.setHeader(
        'Content-Disposition',
        `attachment; filename="${fileName('findings', deps.now(), format)}"`,
      );
      await streamFindings(deps.store, filter, format, principal, res);
    },
  });
}

export const reportRoutes: AnyRoute[] = [
  defineRoute({
    method: 'get',
    path: '/api/v1/reports/compliance',
    operationId: 'complianceReport',
    summary: 'Compliance per source and rule for a period (default: the last 30 days)',
    description:
      'Counts findings that existed in the period by their current status, with a verdict per rule, the ' +
      'scans of the period, and the suppression rules in force (suppressed findings are counted, not hidden).',
    tag: 'reports',
    access: 'viewer',
    query: complianceQuery,
    responses: { 200: { description: 'The summary', schema: ComplianceReportSchema } },
    async handler(ctx) {
      ctx.res.json(await compliance(ctx));
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/reports/compliance.csv',
    operationId: 'complianceReportCsv',
    summary: 'The compliance summary as CSV, one row per source and rule',
    tag: 'reports',
    access: 'viewer',
    query: complianceQuery,
    responses: { 200: { description: 'The summary as CSV', contentType: 'text/csv' } },
    async handler(ctx) {
      const csv = complianceCsv(await compliance(ctx));
      ctx.res
        .status(200)
        .type('text/csv; charset=utf-8')
        .setHeader(
          'Content-Disposition',
          `attachment; filename="${fileName('compliance', ctx.deps.now(), 'csv')}"`,
        )
        .send(csv);
    },
  }),
  exportRoute('csv'),
  exportRoute('ndjson'),
  defineRoute({
    method: 'get',
    path: '/api/v1/reports/scans/:id/delta',
    operationId: 'scanDelta',
    summary: 'What one scan changed: findings new in it, still open, and remediated',
    description:
      'Counts per rule. List them with GET /api/v1/findings?scanId=<id>&delta=new|still-open|remediated.',
    tag: 'reports',
    access: 'viewer',
    params: z.object({ id: z.string().min(1).max(200) }).strict(),
    responses: { 200: { description: 'The delta', schema: ScanDeltaSchema } },
    async handler({ params, deps, res }) {
      const scan = await deps.store.getScan(params.id);
      const delta = scan ? await deps.store.scanDelta(params.id) : null;
      if (!scan || !delta) throw AppError.notFound('scan');
      res.json({
        scanId: scan.id,
        status: scan.status,
        new: delta.new,
        stillOpen: delta['still-open'],
        remediated: delta.remediated,
      });
    },
  }),
];

/** Scans (admin): list, read one with live progress, start one, cancel one. */
import { z } from 'zod';
import { SCAN_STATUSES } from '../../core/model.js';
import { scanJobOptions } from '../../core/queue/connection.js';
import { startScan } from '../../core/scan/start-scan.js';
import { AppError } from '../errors.js';
import { ScanDetailSchema, ScanListSchema, ScanStartedSchema } from '../openapi/schemas.js';
import { defineRoute, type AnyRoute } from '../route.js';
import { param } from '../validation.js';
import { scanProgress, scanView } from '../views.js';

const idParams = z.object({ id: z.string().min(1).max(200) }).strict();

export const scanRoutes: AnyRoute[] = [
  defineRoute({
    method: 'get',
    path: '/api/v1/scans',
    operationId: 'listScans',
    summary: 'Scans, newest first',
    tag: 'scans',
    access: 'admin',
    query: z
      .object({
        source: param.text(63).optional(),
        status: z.enum(SCAN_STATUSES).optional(),
        limit: param.int(1, 500).optional(),
      })
      .strict(),
    responses: { 200: { description: 'The scans', schema: ScanListSchema } },
    async handler({ query, deps, res }) {
      const scans = await deps.store.listScans({
        source: query.source,
        status: query.status,
        limit: query.limit ?? 50,
      });
      res.json({ items: scans.map(scanView) });
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/scans/:id',
    operationId: 'getScan',
    summary: 'One scan with its progress per bucket; poll it to follow a running scan',
    tag: 'scans',
    access: 'admin',
    params: idParams,
    responses: { 200: { description: 'The scan and its totals so far', schema: ScanDetailSchema } },
    async handler({ params, deps, res }) {
      const scan = await deps.store.getScan(params.id);
      if (!scan) throw AppError.notFound('scan');
      res.json({ scan: scanView(scan), progress: scanProgress(scan) });
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/scans',
    operationId: 'startScan',
    errors: [409],
    summary: 'Start a scan of one source, or of every configured source',
    description:
      'Answers 202 with the scan id at once; workers do the scan. 409 when a scan of one of these ' +
      'sources is still running (cancel it first if it is stuck).',
    tag: 'scans',
    access: 'admin',
    body: z.object({ source: z.string().min(1).max(63).optional() }).strict(),
    bodyOptional: true,
    responses: { 202: { description: 'The scan was queued', schema: ScanStartedSchema } },
    async handler({ body, deps, res }) {
      const configured = deps.config.sources.map((s) => s.id);
      if (body.source !== undefined && !configured.includes(body.source)) {
        throw AppError.badRequest([`body.source: unknown source; configured: ${configured.join(', ')}`]);
      }
      const sources = body.source === undefined ? configured : [body.source];
      for (const source of sources) {
        const running = await deps.store.listScans({ source, status: 'running', limit: 1 });
        if (running[0]) throw AppError.conflict(`scan ${running[0].id} of ${source} is still running`);
      }
      const scanId = await startScan(deps.store, deps.flows, {
        sources,
        trigger: 'api',
        now: deps.now(),
        jobOptions: scanJobOptions(deps.config.queue),
      });
      res
        .status(202)
        .location(`/api/v1/scans/${encodeURIComponent(scanId)}`)
        .json({ scanId, sources, status: 'running' });
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/scans/:id/cancel',
    operationId: 'cancelScan',
    errors: [409],
    summary: 'Cancel a running scan; its jobs stop after the page they are on',
    description: '409 when the scan is not running.',
    tag: 'scans',
    access: 'admin',
    params: idParams,
    responses: { 200: { description: 'The cancelled scan', schema: ScanDetailSchema } },
    async handler({ params, deps, res }) {
      const result = await deps.store.cancelScan(params.id, deps.now());
      if (!result) throw AppError.notFound('scan');
      if (!result.changed)
        throw AppError.conflict(`the scan is ${result.scan.status}, not running`, {
          current: result.scan.status,
        });
      res.json({ scan: scanView(result.scan), progress: scanProgress(result.scan) });
    },
  }),
];

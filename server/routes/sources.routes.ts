/** Sources (admin): what the config declares, without secrets, with the last scan and the next run. */
import { z } from 'zod';
import type { AppDeps, SourceSchedule } from '../deps.js';
import { AppError, describe } from '../errors.js';
import { SourceListSchema, SourceSchema } from '../openapi/schemas.js';
import { defineRoute, type AnyRoute } from '../route.js';
import { sourceView } from '../views.js';

/** The schedules by source id; empty when the scheduler cannot be asked (Redis down, no scheduler). */
async function schedulesById(deps: AppDeps): Promise<Map<string, SourceSchedule>> {
  if (!deps.schedules) return new Map();
  try {
    return new Map((await deps.schedules()).map((s) => [s.sourceId, s]));
  } catch (error) {
    deps.logger.warn({ err: describe(error) }, 'schedules unavailable');
    return new Map();
  }
}

async function lastScanOf(deps: AppDeps, sourceId: string) {
  return (await deps.store.listScans({ source: sourceId, limit: 1 }))[0] ?? null;
}

export const sourceRoutes: AnyRoute[] = [
  defineRoute({
    method: 'get',
    path: '/api/v1/sources',
    operationId: 'listSources',
    summary: 'The configured sources with their last scan and next scheduled run',
    description: 'Never a credential: only the names of the environment variables that hold them.',
    tag: 'sources',
    access: 'admin',
    responses: { 200: { description: 'The sources', schema: SourceListSchema } },
    async handler({ deps, res }) {
      const schedules = await schedulesById(deps);
      const items = [];
      for (const source of deps.config.sources) {
        items.push(sourceView(source, await lastScanOf(deps, source.id), schedules.get(source.id)));
      }
      res.json({ items });
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/sources/:id',
    operationId: 'getSource',
    summary: 'One configured source with its last scan and next scheduled run',
    tag: 'sources',
    access: 'admin',
    params: z.object({ id: z.string().min(1).max(63) }).strict(),
    responses: { 200: { description: 'The source', schema: SourceSchema } },
    async handler({ params, deps, res }) {
      const source = deps.config.sources.find((s) => s.id === params.id);
      if (!source) throw AppError.notFound('source');
      const schedules = await schedulesById(deps);
      res.json(sourceView(source, await lastScanOf(deps, source.id), schedules.get(source.id)));
    },
  }),
];

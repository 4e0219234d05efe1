/** Operations: liveness, readiness (database and Redis answer) and Prometheus metrics. */
import type { Queue } from 'bullmq';
import type { Store } from '../../core/store/store.js';
import type { AppDeps } from '../deps.js';
import { AppError, describe } from '../errors.js';
import type { ApiMetrics } from '../metrics.js';
import { HealthSchema, ReadinessSchema } from '../openapi/schemas.js';
import { defineRoute, type AnyRoute } from '../route.js';

/** How long a readiness check waits for a dependency. */
const CHECK_TIMEOUT_MS = 2000;

async function check(probe: () => Promise<unknown>): Promise<'ok' | 'unavailable'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), CHECK_TIMEOUT_MS);
      }),
    ]);
    return 'ok';
  } catch {
    return 'unavailable';
  } finally {
    clearTimeout(timer);
  }
}

/** The ops routes; `metrics` is the registry /metrics serves. */
export function opsRoutes(deps: {
  store: Store;
  queue: Queue;
  redis?: AppDeps['redis'];
  metrics: ApiMetrics;
}): AnyRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/healthz',
      operationId: 'health',
      summary: 'Liveness: the process answers',
      tag: 'operations',
      access: 'public',
      network: false,
      responses: { 200: { description: 'Up', schema: HealthSchema } },
      handler({ res }) {
        res.json({ status: 'ok' });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/readyz',
      operationId: 'readiness',
      summary: 'Readiness: the database and Redis answer',
      tag: 'operations',
      access: 'public',
      network: false,
      responses: {
        200: { description: 'Ready', schema: ReadinessSchema },
        503: { description: 'A dependency does not answer', schema: ReadinessSchema },
      },
      async handler({ res }) {
        const [database, redis] = await Promise.all([
          check(() => deps.store.ping()),
          // Without a connection to ping, a job count is a round trip through the queue's own.
          check(() => (deps.redis ? deps.redis.ping() : deps.queue.getJobCounts('active'))),
        ]);
        const ready = database === 'ok' && redis === 'ok';
        res
          .status(ready ? 200 : 503)
          .json({ status: ready ? 'ready' : 'not-ready', checks: { database, redis } });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/metrics',
      operationId: 'metrics',
      errors: [503],
      summary: 'Prometheus metrics: scans, objects, findings, queue, HTTP',
      description: 'Needs a token of any role (Prometheus: `authorization: { credentials: ... }`).',
      tag: 'operations',
      access: 'viewer',
      audit: false,
      rateLimited: false,
      responses: { 200: { description: 'Metrics in the Prometheus text format', contentType: 'text/plain' } },
      async handler({ res, req }) {
        let text: string;
        try {
          text = await deps.metrics.registry.metrics();
        } catch (error) {
          req.log.warn({ err: describe(error) }, 'metrics scrape failed');
          throw new AppError(503, 'metrics unavailable: the database or Redis does not answer');
        }
        res.status(200).type(deps.metrics.registry.contentType).send(text);
      },
    }),
  ];
}

/**
 * Graceful shutdown: stop taking requests, let the ones in flight finish, then let the scan jobs in
 * flight finish, then close connections. Each step gets what is left of one time budget; a step
 * that overruns is forced (a forced worker's jobs lose their lock and go back to the queue).
 */
import type { Server } from 'node:http';
import type { Logger } from '../core/log.js';

/** One thing to stop, politely (`close`) and, when out of time, bluntly (`force`). */
export interface ShutdownStep {
  name: string;
  close(): Promise<void>;
  force?(): Promise<void>;
  /**
   * The least time this step gets, even when the steps before it used up the budget: closing the
   * store and the queue must not race a spent deadline because the jobs before it overran.
   */
  minMs?: number;
}

/** Stops an HTTP server: no new connections, idle keep-alive ones closed, busy ones finish. */
export function httpServerStep(server: Server): ShutdownStep {
  return {
    name: 'http server',
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Idle keep-alive connections would hold close() open until they time out.
        server.closeIdleConnections();
      }),
    force: async () => {
      server.closeAllConnections();
    },
  };
}

/**
 * Runs the steps in order within `timeoutMs` overall; never throws (a failing step is logged and the
 * next one runs). Returns whether every step closed without being forced or failing.
 */
export async function gracefulShutdown(
  steps: readonly ShutdownStep[],
  timeoutMs: number,
  logger: Logger,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let clean = true;
  for (const step of steps) {
    const left = Math.max(step.minMs ?? 0, deadline - Date.now());
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), left);
    });
    try {
      const outcome = await Promise.race([step.close().then(() => 'closed' as const), timedOut]);
      if (outcome === 'timeout') {
        clean = false;
        logger.warn({ step: step.name, timeoutMs }, 'shutdown step overran its time: forcing it');
        await step.force?.();
      }
    } catch (error) {
      clean = false;
      logger.error({ step: step.name, err: (error as Error).message }, 'shutdown step failed');
    } finally {
      clearTimeout(timer);
    }
  }
  return clean;
}

/**
 * Bull Board: the queue's jobs in a browser, for admins (it shows job data, which names buckets).
 * Read-only: scans start and stop through the API, which validates and records them; a job added,
 * retried, cleaned or an obliterated queue through the board would bypass that.
 */
import type { Queue } from 'bullmq';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Router } from 'express';

/** Where the board is mounted. */
export const BOARD_PATH = '/admin/queues';

/** The board's router for `queue`, to mount at {@link BOARD_PATH} behind admin authentication. */
export function boardRouter(queue: Queue): Router {
  const adapter = new ExpressAdapter();
  adapter.setBasePath(BOARD_PATH);
  // @bull-board/express pins its own copy of @bull-board/api one patch behind ours: same shapes,
  // separately declared private fields, so only the types disagree.
  const serverAdapter = adapter as unknown as Parameters<typeof createBullBoard>[0]['serverAdapter'];
  createBullBoard({ queues: [new BullMQAdapter(queue, { readOnlyMode: true })], serverAdapter });
  return adapter.getRouter() as Router;
}

/**
 * Wires a process together from a validated config: the store, the Redis connection, the scan
 * queue and flow producer. Every entry point (CLI, server, workers) builds exactly one.
 */
import type { FlowProducer, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config/load.js';
import { createFlowProducer, createRedis, createScanQueue, type QueueSettings } from './queue/connection.js';
import { openStore } from './store/open-store.js';
import type { Store } from './store/store.js';

export interface Runtime {
  config: Config;
  store: Store;
  queueSettings: QueueSettings;
  redis: Redis;
  queue: Queue;
  flows: FlowProducer;
  close(): Promise<void>;
}

/** Opens the store (running migrations) and the queue. Override the prefix/schema to isolate tests. */
export async function openRuntime(
  config: Config,
  overrides: { prefix?: string; store?: Store } = {},
): Promise<Runtime> {
  const store =
    overrides.store ??
    (await openStore({
      databaseUrl: config.databaseUrl,
      dataDir: config.database.dataDir,
      schema: config.database.schema,
    }));
  const queueSettings = {
    url: config.redis.url,
    prefix: overrides.prefix ?? config.redis.prefix,
    ...config.queue,
  };
  const redis = createRedis(queueSettings.url);
  const queue = createScanQueue(queueSettings, redis);
  const flows = createFlowProducer(queueSettings, redis);
  return {
    config,
    store,
    queueSettings,
    redis,
    queue,
    flows,
    async close() {
      await flows.close();
      await queue.close();
      await redis.quit().catch(() => undefined);
      if (!overrides.store) await store.close();
    },
  };
}

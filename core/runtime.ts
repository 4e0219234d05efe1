/**
 * Wires a process together from a validated config: the store, the Redis connection, the scan
 * queue and flow producer. Every entry point (CLI, server, workers) builds exactly one.
 */
import type { FlowProducer, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config/load.js';
import { connectRedis, createFlowProducer, createScanQueue, type QueueSettings } from './queue/connection.js';
import { endpointOf, reasonOf, StartupError } from './startup-errors.js';
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

/** SQLSTATE classes and codes of a database that cannot be reached or entered, not of a bug. */
const UNREACHABLE_DATABASE = /^(08|28|3D000|53300|57P03|E[A-Z_]+$)/;

/**
 * Opens the queue and the store (running migrations). Override the prefix/schema to isolate tests.
 * @throws StartupError when Redis does not answer at start (see {@link connectRedis}), the
 *   database cannot be reached or entered, or the embedded store is in use by another process.
 */
export async function openRuntime(
  config: Config,
  overrides: { prefix?: string; store?: Store } = {},
): Promise<Runtime> {
  const queueSettings = {
    url: config.redis.url,
    prefix: overrides.prefix ?? config.redis.prefix,
    ...config.queue,
  };
  const redis = await connectRedis(queueSettings.url);
  let store: Store;
  try {
    store = overrides.store ?? (await openConfiguredStore(config));
  } catch (error) {
    redis.disconnect();
    throw error;
  }
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

async function openConfiguredStore(config: Config): Promise<Store> {
  try {
    return await openStore({
      databaseUrl: config.databaseUrl,
      dataDir: config.database.dataDir,
      schema: config.database.schema,
    });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (config.databaseUrl && typeof code === 'string' && UNREACHABLE_DATABASE.test(code)) {
      throw new StartupError(
        `the database at ${endpointOf(config.databaseUrl)} cannot be used (${reasonOf(error)})`,
        { cause: error },
      );
    }
    throw error;
  }
}

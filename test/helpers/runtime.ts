/**
 * A runtime for tests: the config's queue under a unique prefix and a given store; `close()` also
 * removes every Redis key of that prefix so runs leave nothing behind.
 */
import { randomUUID } from 'node:crypto';
import type { Config } from '../../config/load.js';
import { openRuntime, type Runtime } from '../../core/runtime.js';
import type { Store } from '../../core/store/store.js';

export async function openTestRuntime(
  config: Config,
  store: Store,
  prefix = `test-${randomUUID()}`,
): Promise<Runtime & { dispose(): Promise<void> }> {
  const runtime = await openRuntime(config, { prefix, store });
  return {
    ...runtime,
    async dispose() {
      await runtime.queue.obliterate({ force: true }).catch(() => undefined);
      // Flow parents and schedulers may leave keys obliterate does not know: remove the prefix whole.
      const keys = await runtime.redis.keys(`${prefix}:*`);
      if (keys.length > 0) await runtime.redis.del(...keys);
      await runtime.close();
    },
  };
}

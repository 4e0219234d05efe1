/**
 * Child process of the PGlite lock race test: `node --import tsx test/helpers/lock-contender.ts
 * <dataDir> <startAtMs>`. Waits until `startAtMs` (so contenders start together), tries to take the
 * lock, prints `won` or `refused`, holds a won lock for a moment and releases it.
 */
import { lockDataDir, StoreInUseError } from '../../core/store/pglite-lock.js';

const [dataDir, startAt] = process.argv.slice(2);
await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(startAt) - Date.now())));
try {
  const lock = await lockDataDir(dataDir!);
  process.stdout.write('won\n');
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await lock.release();
} catch (error) {
  if (!(error instanceof StoreInUseError)) throw error;
  process.stdout.write('refused\n');
}
